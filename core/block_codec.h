// Whole-archive compression in independent blocks (docs/archive-format.md).
//
// Each block of the tar stream becomes one self-contained gzip member,
// zstd frame or xz stream. All three formats define a file of such units
// one after the other as the concatenation of their contents (RFC 1952
// section 2.2; zstd and xz "concatenated frames/streams"), so `gzip -d`,
// `tar -xzf`, bsdtar, Python's tarfile, `zstd -d` and `xz -d` read the
// result as one archive, and blocks can be compressed on every core. The
// gzip member header carries no name and no time (MTIME 0, OS 3), so output
// depends only on the input, the format and the level.
//
// A BlockCompressor is not thread-safe: use one per thread.
#pragma once

#include <memory>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace qm {

enum class ArchiveCompression { kGzip, kZstd, kXz };

// "tar.gz", "tar.zst", "tar.xz"
std::string_view ArchiveExtension(ArchiveCompression c);
// Accepts the extensions above (and "gz", "zst", "xz").
Result<ArchiveCompression> ParseArchiveFormat(std::string_view text);
// Default and valid levels: gzip 1..12 (libdeflate; 6 by default, as gzip),
// zstd 1..19 (3), xz 0..9 (6).
int DefaultArchiveLevel(ArchiveCompression c);
Status CheckArchiveLevel(ArchiveCompression c, int level);

class BlockCompressor {
 public:
  BlockCompressor(ArchiveCompression c, int level);
  ~BlockCompressor();
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;

  // Replaces *out with `in` as one complete member/frame/stream.
  Status Compress(ByteView in, Bytes* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qm
