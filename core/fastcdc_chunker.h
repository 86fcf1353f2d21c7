// FastCDC content-defined chunking (Xia et al., 2016): a gear rolling hash
// with normalized chunking (a stricter mask before the average size, a looser
// one after it). Used for every plain file.
//
// Pure and stateless: given the bytes that start at the current chunk's
// beginning, NextCut() says where the chunk ends. The gear table is fixed
// (docs/format.md), so the same bytes always cut at the same places in every
// repository; that is what lets hourly snapshots share chunks.
//
// Thread-safe (const).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.h"

namespace qm {

struct ChunkerParams {
  uint32_t min_size = 16 * 1024;
  uint32_t avg_size = 64 * 1024;  // must be a power of two
  uint32_t max_size = 256 * 1024;
  bool operator==(const ChunkerParams&) const = default;
};

class FastCdcChunker {
 public:
  // REQUIRES: 64 <= min_size < avg_size < max_size, avg_size a power of two.
  explicit FastCdcChunker(ChunkerParams params);

  const ChunkerParams& params() const { return params_; }

  // `data` starts at the beginning of a chunk. Returns the chunk's length
  // (1..max_size), or 0 when more input is needed: that is, when no cut was
  // found in data and data.size() < max_size and !at_eof. At EOF with fewer
  // than min_size bytes left, the rest is one chunk. Empty data returns 0.
  size_t NextCut(ByteView data, bool at_eof) const;

 private:
  ChunkerParams params_;
  uint64_t mask_s_;
  uint64_t mask_l_;
};

// The 256-entry gear table (exposed for the format doc's golden test).
const uint64_t* GearTable();

}  // namespace qm
