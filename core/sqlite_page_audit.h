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
// Overflow pages are recognised as SQLite does, by being referenced: their
// first four bytes are the next page of the chain. A b-tree page's type byte
// is its first byte, so a page that parses as a b-tree page and is reached as
// an overflow page has a next pointer of 2^24 or more; Start refuses files of
// 2^24 pages or more (64 GiB at 4 KiB pages), so such a pointer is always out
// of range and only b-tree pages need their references kept.
//
// Pure logic, no I/O: freelist trunk pages are read through a callback.
// Memory: 5 bytes per page plus 4 per child reference, 12 per overflow
// chain and 4 per page that has either (about 9 bytes per page in all),
// allocated as pages come, none in Finish.
// Not thread-safe.
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

  // Each page once, any order, `page_no` 1-based, page_size bytes.
  void AddPage(uint64_t page_no, ByteView page);

  using ReadPageFn = std::function<Status(uint32_t page_no, Bytes* out)>;
  // `roots`: every root page of sqlite_schema (rootpage > 0), page 1 may be
  // among them or not. `read_page` reads a freelist trunk page.
  Status Finish(const std::vector<uint32_t>& roots, const ReadPageFn& read_page);

  uint32_t page_size() const { return page_size_; }

 private:
  SqlitePageAudit() = default;
  // Appends the page's references to scratch_; false when it is not a
  // b-tree page or does not parse.
  bool ParseBtreePage(uint32_t page_no, ByteView page);

  // state_ bits: the b-tree page type (2, 5, 10, 13; 0: not a b-tree page)
  // in the low four, then whether the page was added and whether Finish
  // found it used.
  static constexpr uint8_t kTypeMask = 0x0f, kSeen = 0x10, kUsed = 0x20;
  // In refs_, an overflow chain is kOverflow, its first page, its length;
  // anything else is a child page. A child pointer of kOverflow is kept as
  // 0: out of range either way.
  static constexpr uint32_t kOverflow = 0xffffffff;

  uint32_t page_size_ = 0;
  uint32_t usable_ = 0;
  uint32_t pages_ = 0;
  uint32_t freelist_trunk_ = 0;
  uint32_t freelist_count_ = 0;
  bool bad_input_ = false;
  uint64_t added_ = 0;
  std::vector<uint8_t> state_;  // by page number
  // By page number: for a b-tree page, where its references start in refs_
  // (a count of words, then the words), or kNoRefs; for any other page, its
  // first four bytes.
  static constexpr uint32_t kNoRefs = 0xffffffff;
  std::vector<uint32_t> slot_;
  std::vector<uint32_t> refs_;
  std::vector<uint32_t> scratch_;  // one page's references while it parses
};

}  // namespace qm
