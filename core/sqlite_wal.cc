#include "core/sqlite_wal.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace qm {

namespace {

constexpr uint32_t kWalIndexVersion = 3007000;
constexpr uint32_t kWalFormatVersion = 3007000;
constexpr uint32_t kWalMagicLittle = 0x377f0682;  // checksums over little-endian words
constexpr uint32_t kWalMagicBig = 0x377f0683;     // over big-endian words

uint32_t Big32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint32_t Little32(const uint8_t* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}
uint32_t Host32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool ValidPageSize(uint32_t n) {
  return n >= 512 && n <= 65536 && (n & (n - 1)) == 0;
}

Status Bad(const std::string& what) {
  return Status::Corruption("SQLite WAL", what);
}

}  // namespace

Result<WalIndexHeader> DecodeWalIndexHeader(ByteView bytes) {
  if (bytes.size() < kWalIndexHeaderSize) return Bad("WAL-index header shorter than 48 bytes");
  const uint8_t* p = bytes.data();
  if (Host32(p) != kWalIndexVersion) return Bad("WAL-index header of an unknown version");
  if (p[12] != 1) return Bad("WAL-index header not initialised");
  WalIndexHeader h;
  h.change = Host32(p + 8);
  h.big_endian_checksums = p[13] != 0;
  uint16_t sz;
  std::memcpy(&sz, p + 14, 2);
  // szPage: the page size, with 65536 stored as 1 (it does not fit 16 bits).
  h.page_size = (sz & 0xfe00) + ((sz & 1u) << 16);
  h.max_frame = Host32(p + 16);
  // An empty WAL's header (recovered from no frames) has no page size.
  if (!ValidPageSize(h.page_size) && !(h.page_size == 0 && h.max_frame == 0))
    return Bad("WAL-index header names page size " + std::to_string(h.page_size));
  h.page_count = Host32(p + 20);
  h.frame_checksum[0] = Host32(p + 24);
  h.frame_checksum[1] = Host32(p + 28);
  std::memcpy(h.salt, p + 32, 8);
  return h;
}

namespace {

// SQLite's WAL checksum (walformat.html): over 32-bit words in the order the
// WAL's magic names, continuing from `sum`.
void WalChecksum(bool big, const uint8_t* data, size_t n, uint32_t sum[2]) {
  uint32_t s1 = sum[0], s2 = sum[1];
  for (size_t i = 0; i + 8 <= n; i += 8) {
    s1 += (big ? Big32(data + i) : Little32(data + i)) + s2;
    s2 += (big ? Big32(data + i + 4) : Little32(data + i + 4)) + s1;
  }
  sum[0] = s1;
  sum[1] = s2;
}

// A frame's own checks: page number, salts, and the checksum that continues
// from `sum`, which it advances.
bool FrameChecks(const WalIndexHeader& index, const uint8_t* p, uint32_t sum[2]) {
  if (std::memcmp(p + 8, index.salt, 8) != 0) return false;
  WalChecksum(index.big_endian_checksums, p, 8, sum);
  WalChecksum(index.big_endian_checksums, p + kWalFrameHeaderSize, index.page_size, sum);
  return sum[0] == Big32(p + 16) && sum[1] == Big32(p + 20);
}

}  // namespace

bool WalFrameMatches(const WalIndexHeader& index, const WalPageFrame& f, ByteView frame) {
  if (frame.size() != kWalFrameHeaderSize + index.page_size || Big32(frame.data()) != f.page) return false;
  uint32_t sum[2] = {f.seed[0], f.seed[1]};
  return FrameChecks(index, frame.data(), sum);
}

void WalFrameScan::Checksum(const uint8_t* data, size_t n) {
  WalChecksum(index_.big_endian_checksums, data, n, checksum_);
}

Result<WalFrameScan> WalFrameScan::Start(const WalIndexHeader& index, ByteView wal_header) {
  if (wal_header.size() < kWalHeaderSize) return Bad("-wal file shorter than its header");
  const uint8_t* p = wal_header.data();
  const uint32_t magic = Big32(p);
  if (magic != kWalMagicLittle && magic != kWalMagicBig) return Bad("-wal file without WAL magic");
  if ((magic == kWalMagicBig) != index.big_endian_checksums) return Bad("-wal checksum order differs from the index");
  if (Big32(p + 4) != kWalFormatVersion) return Bad("-wal file of an unknown format version");
  if (Big32(p + 8) != index.page_size) return Bad("-wal page size differs from the index");
  if (std::memcmp(p + 16, index.salt, 8) != 0) return Bad("-wal salts differ from the index (WAL restarted)");
  WalFrameScan scan;
  scan.index_ = index;
  scan.Checksum(p, 24);
  if (scan.checksum_[0] != Big32(p + 24) || scan.checksum_[1] != Big32(p + 28))
    return Bad("-wal header checksum mismatch");
  scan.seen_.reserve(index.max_frame);
  return scan;
}

Status WalFrameScan::Add(ByteView frame) {
  if (!status_.ok()) return status_;
  const uint32_t n = frames_ + 1;
  auto fail = [&](const std::string& what) {
    status_ = Bad("frame " + std::to_string(n) + ": " + what);
    return status_;
  };
  if (n > index_.max_frame) return fail("beyond the state's last frame " + std::to_string(index_.max_frame));
  if (frame.size() != kWalFrameHeaderSize + index_.page_size) return fail("not one frame long");
  const uint8_t* p = frame.data();
  const uint32_t page = Big32(p);
  if (page == 0) return fail("page number 0");
  if (std::memcmp(p + 8, index_.salt, 8) != 0) return fail("salts differ (left over from an earlier WAL)");
  const WalPageFrame entry{page, n, {checksum_[0], checksum_[1]}};
  if (!FrameChecks(index_, p, checksum_)) return fail("checksum mismatch");
  frames_ = n;
  last_commit_size_ = Big32(p + 4);
  seen_.push_back(entry);
  return Status::OK();
}

Result<std::vector<WalPageFrame>> WalFrameScan::Finish() {
  if (!status_.ok()) return status_;
  if (frames_ != index_.max_frame)
    return Bad(std::to_string(frames_) + " frames scanned of " + std::to_string(index_.max_frame));
  if (frames_ > 0) {
    if (last_commit_size_ == 0) return Bad("frame " + std::to_string(frames_) + " is not a commit");
    if (last_commit_size_ != index_.page_count)
      return Bad("the last commit has " + std::to_string(last_commit_size_) + " pages, the index says " +
                 std::to_string(index_.page_count));
    if (checksum_[0] != index_.frame_checksum[0] || checksum_[1] != index_.frame_checksum[1])
      return Bad("the last frame's checksum is not the index header's");
  }
  // Latest frame wins: sort by page, then keep each page's last frame.
  std::vector<WalPageFrame> map = std::move(seen_);
  std::stable_sort(map.begin(), map.end(),
                   [](const WalPageFrame& a, const WalPageFrame& b) { return a.page < b.page; });
  size_t out = 0;
  for (size_t i = 0; i < map.size(); i++) {
    if (out > 0 && map[out - 1].page == map[i].page) {
      map[out - 1] = map[i];
    } else {
      map[out++] = map[i];
    }
  }
  map.resize(out);
  // A frame of a page past the end of the state (a shrinking commit) is
  // never read.
  while (!map.empty() && map.back().page > index_.page_count) map.pop_back();
  return map;
}

}  // namespace qm
