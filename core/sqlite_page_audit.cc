#include "core/sqlite_page_audit.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace qm {
namespace {

uint32_t Be16(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 8 | p[1];
}
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}

// SQLite's varint (1 to 9 bytes, big-endian, 7 bits per byte, the ninth
// byte whole). False when it runs past `end`.
bool GetVarint(const uint8_t* data, uint32_t* pos, uint32_t end, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 9; i++) {
    if (*pos >= end) return false;
    const uint8_t b = data[(*pos)++];
    if (i == 8) {
      *out = (v << 8) | b;
      return true;
    }
    v = (v << 7) | (b & 0x7f);
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

Status Problem(const std::string& what) {
  return Status::Corruption("page accounting", what);
}

}  // namespace

Result<SqlitePageAudit> SqlitePageAudit::Start(ByteView header, uint64_t page_count) {
  if (header.size() < 100 || std::memcmp(header.data(), "SQLite format 3", 16) != 0)
    return Status::Corruption("page accounting", "not a SQLite header");
  SqlitePageAudit a;
  const uint32_t ps = Be16(header.data() + 16);
  a.page_size_ = ps == 1 ? 65536 : ps;
  if (a.page_size_ < 512 || a.page_size_ > 65536 || (a.page_size_ & (a.page_size_ - 1)) != 0)
    return Status::Corruption("page accounting", "bad page size " + std::to_string(ps));
  a.usable_ = a.page_size_ - header[20];
  if (a.usable_ < 480) return Status::Corruption("page accounting", "reserved space leaves too little");
  if (Be32(header.data() + 52) != 0) return Status::NotSupported("page accounting", "auto-vacuum database");
  if (page_count == 0 || page_count > 0xfffffffeull) return Status::Corruption("page accounting", "bad page count");
  a.pages_ = static_cast<uint32_t>(page_count);
  a.freelist_trunk_ = Be32(header.data() + 32);
  a.freelist_count_ = Be32(header.data() + 36);
  a.first4_.assign(a.pages_ + 1, 0);
  a.kind_.assign(a.pages_ + 1, 0);
  a.seen_.assign(a.pages_ + 1, 0);
  a.refs_.reserve(a.pages_ + a.pages_ / 8);
  return a;
}

void SqlitePageAudit::AddPage(uint64_t page_no, ByteView page) {
  if (page_no < 1 || page_no > pages_ || page.size() != page_size_ || seen_[page_no]) {
    bad_input_ = true;
    return;
  }
  const uint32_t p = static_cast<uint32_t>(page_no);
  seen_[p] = 1;
  added_++;
  first4_[p] = Be32(page.data());
  const size_t mark = refs_.size();
  if (ParseBtreePage(p, page)) {
    kind_[p] = page[p == 1 ? 100 : 0];
  } else {
    refs_.resize(mark);  // what it appended before it gave up
    kind_[p] = 0;
  }
}

// The references of a b-tree page (SQLite file format, "B-tree Pages" and
// "Cell Payload Overflow Pages"). False when the page is not one or does not
// parse; then nothing it appended counts.
bool SqlitePageAudit::ParseBtreePage(uint32_t p, ByteView page) {
  const uint8_t* d = page.data();
  const uint32_t h = p == 1 ? 100 : 0;
  const uint8_t type = d[h];
  if (type != 2 && type != 5 && type != 10 && type != 13) return false;
  const bool interior = type == 2 || type == 5;
  const uint32_t hdr = interior ? 12 : 8;
  if (h + hdr > usable_) return false;
  const uint32_t cells = Be16(d + h + 3);
  const uint32_t array_end = h + hdr + 2 * cells;
  if (array_end > usable_) return false;
  if (interior) refs_.push_back({p, Be32(d + h + 8), 0});
  const uint32_t u = usable_;
  const bool index = type == 2 || type == 10;
  const uint32_t max_local = index ? (u - 12) * 64 / 255 - 23 : u - 35;
  const uint32_t min_local = (u - 12) * 32 / 255 - 23;
  for (uint32_t i = 0; i < cells; i++) {
    uint32_t pos = Be16(d + h + hdr + 2 * i);
    if (pos < array_end || pos >= u) return false;
    if (interior) {
      if (pos + 4 > u) return false;
      refs_.push_back({p, Be32(d + pos), 0});
      pos += 4;
      if (type == 5) continue;  // table interior cell: child and rowid only
    }
    uint64_t payload = 0, rowid = 0;
    if (!GetVarint(d, &pos, u, &payload)) return false;
    if (type == 13 && !GetVarint(d, &pos, u, &rowid)) return false;
    if (payload <= max_local) {
      if (pos + payload > u) return false;
      continue;
    }
    if (payload > 0x7fffffff) return false;
    const uint32_t surplus = min_local + static_cast<uint32_t>((payload - min_local) % (u - 4));
    const uint32_t local = surplus <= max_local ? surplus : min_local;
    if (pos + local + 4 > u) return false;
    const uint64_t chain = (payload - local + (u - 4) - 1) / (u - 4);
    refs_.push_back({p, Be32(d + pos + local), static_cast<uint32_t>(chain)});
  }
  return true;
}

Status SqlitePageAudit::Finish(const std::vector<uint32_t>& roots, const ReadPageFn& read_page) {
  if (bad_input_ || added_ != pages_)
    return Problem("saw " + std::to_string(added_) + " of " + std::to_string(pages_) + " pages, or a page twice");
  std::stable_sort(refs_.begin(), refs_.end(), [](const Ref& a, const Ref& b) { return a.from < b.from; });
  std::vector<uint32_t> start(static_cast<size_t>(pages_) + 2, 0);
  for (const Ref& r : refs_) start[r.from + 1]++;
  for (size_t i = 1; i < start.size(); i++) start[i] += start[i - 1];

  std::vector<uint8_t> used(static_cast<size_t>(pages_) + 1, 0);
  const uint64_t lock_page = (uint64_t{1} << 30) / page_size_ + 1;  // holds SQLite's lock bytes; never used
  if (lock_page <= pages_) used[lock_page] = 1;
  auto mark = [&](uint32_t q, const char* as) -> Status {
    if (q == 0 || q > pages_) return Problem("invalid page number " + std::to_string(q) + " (" + as + ")");
    if (used[q]) return Problem("2nd reference to page " + std::to_string(q) + " (" + as + ")");
    used[q] = 1;
    return Status::OK();
  };

  std::vector<uint32_t> all_roots = roots;
  if (std::find(all_roots.begin(), all_roots.end(), 1u) == all_roots.end()) all_roots.push_back(1);
  std::vector<uint32_t> stack;
  for (uint32_t root : all_roots) {
    QM_RETURN_IF_ERROR(mark(root, "root"));
    stack.push_back(root);
    while (!stack.empty()) {
      const uint32_t q = stack.back();
      stack.pop_back();
      if (kind_[q] == 0) return Problem("page " + std::to_string(q) + " is referenced as a b-tree page but is not one");
      for (uint32_t k = start[q]; k < start[q + 1]; k++) {
        const Ref& r = refs_[k];
        if (r.overflow_pages == 0) {
          QM_RETURN_IF_ERROR(mark(r.to, "child"));
          stack.push_back(r.to);
          continue;
        }
        uint32_t o = r.to;
        for (uint32_t n = 0; n < r.overflow_pages; n++) {
          QM_RETURN_IF_ERROR(mark(o, "overflow"));
          if (n + 1 < r.overflow_pages) o = first4_[o];
        }
      }
    }
  }

  // The freelist: a chain of trunk pages, each listing leaf pages; the
  // header's count is trunks and leaves together.
  uint32_t trunk = freelist_trunk_;
  uint64_t left = freelist_count_;
  Bytes data;
  while (left > 0) {
    if (trunk == 0) return Problem("the freelist ends " + std::to_string(left) + " pages early");
    QM_RETURN_IF_ERROR(mark(trunk, "freelist trunk"));
    left--;
    QM_RETURN_IF_ERROR(read_page(trunk, &data));
    if (data.size() != page_size_) return Problem("freelist trunk " + std::to_string(trunk) + " unreadable");
    const uint32_t n = Be32(data.data() + 4);
    if (n > usable_ / 4 - 2 || n > left)
      return Problem("freelist leaf count " + std::to_string(n) + " too big on page " + std::to_string(trunk));
    for (uint32_t i = 0; i < n; i++) QM_RETURN_IF_ERROR(mark(Be32(data.data() + 8 + 4 * i), "freelist leaf"));
    left -= n;
    trunk = Be32(data.data());
  }

  for (uint32_t q = 1; q <= pages_; q++)
    if (!used[q]) return Problem("page " + std::to_string(q) + " is never used");
  return Status::OK();
}

}  // namespace qm
