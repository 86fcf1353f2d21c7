// Page-aligned content-defined chunking for SQLite databases.
//
// A database changes page by page, so chunks are runs of whole pages: a cut
// is only ever made on a page boundary, and whether to cut after a page is
// decided by that page's own content (XXH3 of the page: cut when the top
// `bits` bits are zero), within [min_pages, max_pages]. Because the decision
// depends on one page only, an inserted or removed run of pages (a VACUUM,
// a table growing in the middle of the file) shifts the cuts with it and the
// chunking re-synchronises at the next cut page. Page 1 (the header, which
// changes on every commit in rollback mode) is always a chunk by itself.
//
// Sizes are given in bytes and converted to pages for the database's page
// size, so a 64 KiB-page database gets one-page chunks. Pure and const:
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.h"

namespace qm {

struct PageChunkerParams {
  uint32_t min_bytes = 4 * 1024;
  uint32_t avg_bytes = 8 * 1024;   // rounded to a power of two of pages
  uint32_t max_bytes = 64 * 1024;
};

class PageChunker {
 public:
  // REQUIRES: page_size is a power of two in [512, 65536].
  PageChunker(PageChunkerParams params, uint32_t page_size);

  uint32_t page_size() const { return page_size_; }
  uint32_t min_pages() const { return min_pages_; }
  uint32_t max_pages() const { return max_pages_; }

  // Whether the current chunk ends after `page`, which is the chunk's
  // `pages_in_chunk`-th page (1-based) and the database's page `page_no`.
  bool CutAfter(ByteView page, uint32_t pages_in_chunk, uint64_t page_no) const;

 private:
  uint32_t page_size_;
  uint32_t min_pages_;
  uint32_t max_pages_;
  uint64_t mask_;
};

}  // namespace qm
