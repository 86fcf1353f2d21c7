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
  if (page_count == 0) return Status::Corruption("page accounting", "bad page count");
  if (page_count >= (uint64_t{1} << 24))
    return Status::NotSupported("page accounting", "database of 2^24 pages or more");
  a.pages_ = static_cast<uint32_t>(page_count);
  a.freelist_trunk_ = Be32(header.data() + 32);
  a.freelist_count_ = Be32(header.data() + 36);
  a.state_.assign(a.pages_ + 1, 0);
  return a;
}

size_t SqlitePageAudit::memory_bytes() const {
  return state_.capacity() + heads_.capacity() * sizeof(uint32_t) + rank_.capacity() * sizeof(uint32_t) +
         chains_.capacity() * sizeof(Chain) + scratch_.capacity() * sizeof(uint32_t);
}

void SqlitePageAudit::AddPage(uint64_t page_no, ByteView page) {
  if (bad_input_ || page_no != next_page_ || page_no > pages_ || page.size() != page_size_) {
    bad_input_ = true;
    return;
  }
  const uint32_t p = next_page_++;
  scratch_.clear();
  if (!ParseBtreePage(p, page)) {
    state_[p] = kSeen;
    heads_.push_back(Be32(page.data()));
    return;
  }
  const uint8_t type = page[p == 1 ? 100 : 0];
  state_[p] = kSeen | type;
  if (type == 2 || type == 5) return;  // interior: read again by Finish
  // A leaf's references are its overflow chains (kOverflow, first, length).
  for (size_t i = 0; i + 2 < scratch_.size(); i += 3) chains_.push_back({p, scratch_[i + 1], scratch_[i + 2]});
  if (!scratch_.empty()) state_[p] |= kChains;
}

// The references of a b-tree page (SQLite file format, "B-tree Pages" and
// "Cell Payload Overflow Pages"). False when the page is not one or does not
// parse; then nothing it appended to scratch_ counts.
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
  auto child = [&](uint32_t to) { scratch_.push_back(to == kOverflow ? 0 : to); };
  if (interior) child(Be32(d + h + 8));
  const uint32_t u = usable_;
  const bool index = type == 2 || type == 10;
  const uint32_t max_local = index ? (u - 12) * 64 / 255 - 23 : u - 35;
  const uint32_t min_local = (u - 12) * 32 / 255 - 23;
  for (uint32_t i = 0; i < cells; i++) {
    uint32_t pos = Be16(d + h + hdr + 2 * i);
    if (pos < array_end || pos >= u) return false;
    if (interior) {
      if (pos + 4 > u) return false;
      child(Be32(d + pos));
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
    scratch_.insert(scratch_.end(), {kOverflow, Be32(d + pos + local), static_cast<uint32_t>(chain)});
  }
  return true;
}

uint32_t SqlitePageAudit::HeadOf(uint32_t q) const {
  const uint32_t block = q / kRankBlock;
  uint32_t rank = rank_[block];
  for (uint32_t r = block * kRankBlock; r < q; r++)
    if ((state_[r] & (kSeen | kTypeMask)) == kSeen) rank++;
  return heads_[rank];
}

Status SqlitePageAudit::Finish(const std::vector<uint32_t>& roots, const ReadPageFn& read_page) {
  if (bad_input_ || next_page_ != pages_ + 1)
    return Problem("saw " + std::to_string(next_page_ - 1) + " of " + std::to_string(pages_) +
                   " pages, or pages out of order");
  rank_.assign(pages_ / kRankBlock + 1, 0);
  uint32_t before = 0;
  for (uint32_t q = 0; q <= pages_; q++) {
    if (q % kRankBlock == 0) rank_[q / kRankBlock] = before;
    if ((state_[q] & (kSeen | kTypeMask)) == kSeen) before++;
  }
  const uint64_t lock_page = (uint64_t{1} << 30) / page_size_ + 1;  // holds SQLite's lock bytes; never used
  if (lock_page <= pages_) state_[lock_page] |= kUsed;
  auto mark = [&](uint32_t q, const char* as) -> Status {
    if (q == 0 || q > pages_) return Problem("invalid page number " + std::to_string(q) + " (" + as + ")");
    if (state_[q] & kUsed) return Problem("2nd reference to page " + std::to_string(q) + " (" + as + ")");
    state_[q] |= kUsed;
    return Status::OK();
  };
  auto follow = [&](uint32_t o, uint32_t chain) -> Status {
    for (uint32_t n = 0; n < chain; n++) {
      QM_RETURN_IF_ERROR(mark(o, "overflow"));
      if (n + 1 == chain) break;
      // A page that parsed as a b-tree page starts with its type byte:
      // as a next pointer that is 2^24 or more, past the last page.
      if (state_[o] & kTypeMask) return Problem("overflow page " + std::to_string(o) + " points past the last page");
      o = HeadOf(o);
    }
    return Status::OK();
  };

  std::vector<uint32_t> all_roots = roots;
  if (std::find(all_roots.begin(), all_roots.end(), 1u) == all_roots.end()) all_roots.push_back(1);
  std::vector<uint32_t> stack;
  Bytes data;
  for (uint32_t root : all_roots) {
    QM_RETURN_IF_ERROR(mark(root, "root"));
    stack.push_back(root);
    while (!stack.empty()) {
      const uint32_t q = stack.back();
      stack.pop_back();
      const uint8_t type = state_[q] & kTypeMask;
      if (type == 0) return Problem("page " + std::to_string(q) + " is referenced as a b-tree page but is not one");
      if (type == 10 || type == 13) {
        if (!(state_[q] & kChains)) continue;
        auto it = std::lower_bound(chains_.begin(), chains_.end(), q,
                                   [](const Chain& c, uint32_t page) { return c.page < page; });
        for (; it != chains_.end() && it->page == q; ++it) QM_RETURN_IF_ERROR(follow(it->first, it->length));
        continue;
      }
      // An interior page: its children and overflow chains, read again.
      QM_RETURN_IF_ERROR(read_page(q, &data));
      scratch_.clear();
      if (data.size() != page_size_ || !ParseBtreePage(q, data) || data[q == 1 ? 100 : 0] != type)
        return Problem("interior page " + std::to_string(q) + " reads back differently");
      for (size_t i = 0; i < scratch_.size(); i++) {
        if (scratch_[i] != kOverflow) {
          QM_RETURN_IF_ERROR(mark(scratch_[i], "child"));
          stack.push_back(scratch_[i]);
          continue;
        }
        QM_RETURN_IF_ERROR(follow(scratch_[i + 1], scratch_[i + 2]));
        i += 2;
      }
    }
  }

  // The freelist: a chain of trunk pages, each listing leaf pages; the
  // header's count is trunks and leaves together.
  uint32_t trunk = freelist_trunk_;
  uint64_t left = freelist_count_;
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
    if (!(state_[q] & kUsed)) return Problem("page " + std::to_string(q) + " is never used");
  return Status::OK();
}

}  // namespace qm
