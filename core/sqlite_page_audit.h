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
// It parses each page as a b-tree page where its type byte says so and keeps
// one byte per page: its type, whether it was added, whether it is used.
// Beyond that byte it keeps only what it could not find again cheaply: the
// first four bytes of every page that is not a b-tree page (an overflow or
// freelist trunk page's next pointer) and the overflow chains of leaf pages
// (first page, length from the payload size). The children of interior pages
// (about one reference per page of the file, 4 bytes each) are not kept:
// Finish reads the interior pages again (0.45% of the pages of the 1 GiB
// generated set's database) and walks from the schema's root pages and the
// freelist. It reports the first page referenced twice, out of range, not a
// b-tree page where a b-tree page is referenced, or never used. The in-page
// structure of each b-tree (cell order, overlaps, depth) is the per-table
// checks' part.
//
// Conservative: anything it cannot parse where it matters is a problem; the
// caller then runs SQLite's full check for the verdict. Auto-vacuum files
// (pointer-map pages) are not supported (Start says so).
//
// Overflow pages are recognised as SQLite does, by being referenced: their
// first four bytes are the next page of the chain. A b-tree page's type byte
// is its first byte, so a page that parses as a b-tree page and is reached as
// an overflow page has a next pointer of 2^24 or more; Start refuses files of
// 2^24 pages or more (64 GiB at 4 KiB pages), so such a pointer is always out
// of range and only the first bytes of other pages need keeping.
//
// Pure logic, no I/O: interior and freelist trunk pages are read again
// through a callback, which must give the bytes AddPage was given (the same
// read transaction).
// Memory: 1 byte per page, 4 per page that is not a b-tree page, 12 per
// overflow chain of a leaf page, and in Finish 4 per 64 pages (the 1 GiB
// generated set's database: 1.0 byte per page; it was 9 while the children
// were kept). Not thread-safe.
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
  // the pages the read transaction sees. NotSupported for auto-vacuum files
  // and for 2^24 pages or more, Corruption for a header that is not SQLite's.
  static Result<SqlitePageAudit> Start(ByteView header, uint64_t page_count);

  // Each page once, in ascending order from 1, page_size bytes (pages out
  // of order fail Finish).
  void AddPage(uint64_t page_no, ByteView page);

  using ReadPageFn = std::function<Status(uint32_t page_no, Bytes* out)>;
  // `roots`: every root page of sqlite_schema (rootpage > 0), page 1 may be
  // among them or not. `read_page` reads an interior b-tree page or a
  // freelist trunk page of the same state AddPage saw.
  Status Finish(const std::vector<uint32_t>& roots, const ReadPageFn& read_page);

  uint32_t page_size() const { return page_size_; }
  // Bytes the audit holds now (capacity of what it keeps).
  size_t memory_bytes() const;

 private:
  SqlitePageAudit() = default;
  // Appends the page's references to scratch_; false when it is not a
  // b-tree page or does not parse.
  bool ParseBtreePage(uint32_t page_no, ByteView page);
  // The first four bytes of page `q`, which is not a b-tree page.
  uint32_t HeadOf(uint32_t q) const;

  // state_ bits: the b-tree page type (2, 5, 10, 13; 0: not a b-tree page)
  // in the low four, then whether the page was added, whether Finish found
  // it used, and (leaf pages) whether it has overflow chains.
  static constexpr uint8_t kTypeMask = 0x0f, kSeen = 0x10, kUsed = 0x20, kChains = 0x40;
  // In scratch_, an overflow chain is kOverflow, its first page, its length;
  // anything else is a child page. A child pointer of kOverflow is kept as
  // 0: out of range either way.
  static constexpr uint32_t kOverflow = 0xffffffff;
  static constexpr uint32_t kRankBlock = 64;

  struct Chain {
    uint32_t page;  // the leaf page whose cell overflows
    uint32_t first;
    uint32_t length;
  };

  uint32_t page_size_ = 0;
  uint32_t usable_ = 0;
  uint32_t pages_ = 0;
  uint32_t freelist_trunk_ = 0;
  uint32_t freelist_count_ = 0;
  bool bad_input_ = false;
  uint32_t next_page_ = 1;       // the page AddPage expects next
  std::vector<uint8_t> state_;   // by page number
  std::vector<uint32_t> heads_;  // first four bytes of each non-b-tree page, in page order
  // Finish: rank_[b] is how many non-b-tree pages come before page
  // b * kRankBlock, so HeadOf needs no page numbers stored.
  std::vector<uint32_t> rank_;
  std::vector<Chain> chains_;      // of leaf pages, in page order
  std::vector<uint32_t> scratch_;  // one page's references while it parses
};

}  // namespace qm
