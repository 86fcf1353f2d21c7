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
  uint32_t avg_bytes = 8 * 1024;  // rounded to a power of two of pages
  uint32_t max_bytes = 64 * 1024;
};

// What backups use for databases: one page per chunk for pages of 4 KiB
// and more, fixed 4 KiB groups for smaller pages. Measured against page
// groups, page-aligned CDC with larger averages and FastCDC
// (bench/chunker_compare, docs/performance.md): a trading hour rewrites
// scattered single pages (index and interior b-tree pages) in place, so any
// chunk longer than a page stores unchanged neighbours again (2-3x the
// bytes of the changed pages for 8 KiB averages, 10x for 64 KiB FastCDC),
// while single pages come within 1.02-1.08x of the changed pages' own
// compressed size and also deduplicate pages a VACUUM moved. The price is a
// longer chunk list (36 bytes per page), which chunk-list blocks share
// between snapshots.
inline constexpr PageChunkerParams kDatabaseChunking{4 * 1024, 4 * 1024, 32 * 1024};

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
