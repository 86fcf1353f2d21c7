// Page fingerprints: one XXH3-64 per chunk of a database capture, kept in
// the local chunk index (a cache, never needed to restore) so that the next
// backup of the same database pays SHA-256, an index lookup and zstd only
// for chunks whose fingerprint changed.
//
// Comparison is positional: with kDatabaseChunking a chunk covers a fixed
// page range, so chunk k of the new capture is compared only with chunk k of
// the parent capture (same length, same fingerprint, same page size). A
// false match then needs a changed page whose 64-bit fingerprint equals its
// old value: ~2^-64 per changed chunk, about 2e-16 for an hour that changes
// 4,000 pages. `--force-read` (the guide's daily full) bypasses the cache.
//
// Format (docs/format.md, "Page fingerprints"): "QMFP" | version u8 = 1 |
// content_id 32 | page_size u32le | varint count | count x u64le.
// The decoder treats its input as hostile.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

struct PageFingerprints {
  Hash256 content_id;  // of the capture they describe (its tree node's content_id)
  uint32_t page_size = 0;
  std::vector<uint64_t> chunks;  // XXH3-64 of each chunk, in file order

  bool operator==(const PageFingerprints&) const = default;
};

inline constexpr uint8_t kPageFingerprintsVersion = 1;

Bytes EncodePageFingerprints(const PageFingerprints& fp);
Result<PageFingerprints> DecodePageFingerprints(ByteView data);

}  // namespace qm
