// The page accounting half of SQLite's PRAGMA quick_check, from a stream of
// pages.
//
// A full quick_check walks every b-tree of the file, then checks that every
// page is used exactly once: as a page of one b-tree (a b-tree page or an
// overflow page of one of its cells), by the freelist, or as the lock-byte
// page. PRAGMA quick_check(TABLE) runs the b-tree part for one table and its
// indexes and skips the accounting (a leaked page passes it). A backup streams
// every page anyway: this class does the accounting from those pages, so the
// per-table checks can run on several connections at once and, with the
// audit, cover what the full check covers.
//
// It parses each page as a b-tree page where its type byte says so, keeping
// only references (child pages, and each overflowing cell's first overflow
// page with the chain length its payload size implies) and the first four
// bytes of every page (an overflow or freelist trunk page's next pointer).
// Finish() walks from the schema's root pages and the freelist and reports
// the first page referenced twice, out of range, not a b-tree page where a
// b-tree page is referenced, or never used. The in-page structure of each
// b-tree (cell order, overlaps, depth) is the per-table checks' part.
//
// Conservative: anything it cannot parse where it matters is a problem; the
// caller then runs SQLite's full check for the verdict. Auto-vacuum files
// (pointer-map pages) are not supported (Start says so).
//
// Pure logic, no I/O: freelist trunk pages are read through a callback.
// Memory: ~7 bytes per page plus 12 per reference. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace qm {

class SqlitePageAudit {
 public:
  // `header`: the first 100 bytes of the database (page 1); `page_count`:
  // the pages the read transaction sees. NotSupported for auto-vacuum files,
  // Corruption for a header that is not SQLite's.
  static Result<SqlitePageAudit> Start(ByteView header, uint64_t page_count);

  // Each page once, any order, `page_no` 1-based, page_size bytes.
  void AddPage(uint64_t page_no, ByteView page);

  using ReadPageFn = std::function<Status(uint32_t page_no, Bytes* out)>;
  // `roots`: every root page of sqlite_schema (rootpage > 0), page 1 may be
  // among them or not. `read_page` reads a freelist trunk page.
  Status Finish(const std::vector<uint32_t>& roots, const ReadPageFn& read_page);

  uint32_t page_size() const { return page_size_; }

 private:
  SqlitePageAudit() = default;
  bool ParseBtreePage(uint32_t page_no, ByteView page);

  struct Ref {
    uint32_t from;
    uint32_t to;
    uint32_t overflow_pages;  // 0: `to` is a child b-tree page; else the chain's length
  };
  uint32_t page_size_ = 0;
  uint32_t usable_ = 0;
  uint32_t pages_ = 0;
  uint32_t freelist_trunk_ = 0;
  uint32_t freelist_count_ = 0;
  bool bad_input_ = false;
  uint64_t added_ = 0;
  std::vector<uint32_t> first4_;  // by page number
  std::vector<uint8_t> kind_;     // b-tree page type (2, 5, 10, 13), 0: not one; by page number
  std::vector<uint8_t> seen_;
  std::vector<Ref> refs_;
};

}  // namespace qm
