// zstd compression with reusable contexts.
//
// Not thread-safe: one ZstdCodec per thread. Decompress treats its input as
// hostile: it never writes more than the expected raw size and fails with
// Corruption when the frame does not decode to exactly that many bytes.
#pragma once

#include <memory>

#include "core/bytes.h"
#include "core/status.h"

namespace qm {

class ZstdCodec {
 public:
  explicit ZstdCodec(int level = 3);
  ~ZstdCodec();
  ZstdCodec(const ZstdCodec&) = delete;
  ZstdCodec& operator=(const ZstdCodec&) = delete;

  int level() const { return level_; }

  // Replaces *out with one zstd frame holding `in` (content size recorded).
  Status Compress(ByteView in, Bytes* out);
  // Decodes the frame into dst[0, raw_size), which the caller owns.
  // REQUIRES: raw_size is the size the caller expects (from a pack table of
  // contents); a frame declaring or decoding to any other size is
  // Corruption. On failure the contents of dst are unspecified.
  Status DecompressTo(ByteView in, uint8_t* dst, size_t raw_size);

 private:
  struct Impl;
  int level_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qm
