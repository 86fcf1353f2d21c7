// Which WAL frame holds each page of a WAL-mode SQLite state, from SQLite's
// own files (https://sqlite.org/walformat.html and fileformat2.html, "The
// Write-Ahead Log"). The capture of a WAL-mode database (store/ops/
// sqlite_source.cc) reads the database file and these frames itself instead
// of going through the online backup API; design.md, "Live databases", says
// why that is safe while the read transaction is held.
//
// A state is named by the WAL-index header a reader saw when it began (the
// first 48 bytes of the -shm file, in the host's byte order): the last commit
// frame it reads (mxFrame), the database size after it (nPage), the WAL's
// salts, and the cumulative checksum of frame mxFrame. WalFrameScan checks
// the -wal file against that header frame by frame, as SQLite's recovery
// does: the file header is this generation's (magic, page size, salts, its
// own checksum), every frame carries the salts and continues the checksum
// chain, and frame mxFrame ends a commit of nPage pages with exactly the
// checksum the index header records. Only then does Finish give the map.
// A WAL restarted or rewritten under the scan cannot pass: its salts change.
//
// Pure logic, no I/O; every input is treated as hostile. Memory: 16 bytes
// per frame scanned, until Finish. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace qm {

inline constexpr size_t kWalIndexHeaderSize = 48;
inline constexpr size_t kWalHeaderSize = 32;
inline constexpr size_t kWalFrameHeaderSize = 24;

// The WAL-index header, decoded. `salt` is kept as the WAL file stores it.
struct WalIndexHeader {
  uint32_t change = 0;  // iChange: every commit changes it
  bool big_endian_checksums = false;
  uint32_t page_size = 0;           // 512..65536; 0 when the WAL is empty (max_frame 0)
  uint32_t max_frame = 0;           // mxFrame
  uint32_t page_count = 0;          // nPage
  uint32_t frame_checksum[2] = {};  // aFrameCksum
  uint8_t salt[8] = {};             // aSalt
};

// `bytes`: one copy of the header, host byte order. Corruption unless it is
// initialised, of format 3007000, and names a valid page size.
Result<WalIndexHeader> DecodeWalIndexHeader(ByteView bytes);

// Byte offset of frame `frame` (1-based) in the -wal file.
inline uint64_t WalFrameOffset(uint32_t frame, uint32_t page_size) {
  return kWalHeaderSize + static_cast<uint64_t>(frame - 1) * (kWalFrameHeaderSize + page_size);
}

struct WalPageFrame {
  uint32_t page;
  uint32_t frame;    // the last frame <= mxFrame that holds the page
  uint32_t seed[2];  // the cumulative checksum before that frame
};

// Whether `frame` (24 + page_size bytes, read again from the -wal file) is
// still the frame `f` that the scan verified: same page, the index's salts,
// and the checksum that continues from f.seed. False once the WAL has been
// restarted and the frame rewritten, or while it is being rewritten (any
// mix of old and new bytes).
bool WalFrameMatches(const WalIndexHeader& index, const WalPageFrame& f, ByteView frame);

class WalFrameScan {
 public:
  // `wal_header`: the -wal file's first 32 bytes. Corruption when they are
  // not the header of the generation `index` describes.
  static Result<WalFrameScan> Start(const WalIndexHeader& index, ByteView wal_header);

  // Frames 1..index.max_frame in order, each 24 + page_size bytes. The
  // first frame that does not verify is an error here and in Finish.
  Status Add(ByteView frame);

  // After frame max_frame: the map, by ascending page, one entry per page
  // that the state reads from the WAL. Corruption when fewer frames came
  // or the last one is not the commit the index header describes.
  Result<std::vector<WalPageFrame>> Finish();

 private:
  WalFrameScan() = default;
  void Checksum(const uint8_t* data, size_t n);

  WalIndexHeader index_;
  uint32_t checksum_[2] = {};
  uint32_t frames_ = 0;
  uint32_t last_commit_size_ = 0;  // of the last frame added
  Status status_;
  std::vector<WalPageFrame> seen_;  // in frame order
};

}  // namespace qm
