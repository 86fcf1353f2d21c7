// Page fingerprints: one XXH3-64 per chunk of a database capture, with the
// capture's chunk refs, kept in a local cache file (R/cache/, never needed to
// restore) so that the next backup of the same database pays SHA-256, an
// index lookup and zstd only for chunks whose fingerprint changed, and does
// not have to read the parent's chunk list back from the packs (a 1 GiB
// database's list is ~22k blocks: 0.35-0.55 s of an hourly run).
//
// Comparison is positional: with kDatabaseChunking a chunk covers a fixed
// page range, so chunk k of the new capture is compared only with chunk k of
// the parent capture (same length, same fingerprint, same page size). A
// false match then needs a changed page whose 64-bit fingerprint equals its
// old value: ~2^-64 per changed chunk, about 2e-16 for an hour that changes
// 4,000 pages. `--force-read` (the guide's daily full) bypasses the cache.
//
// Format (docs/format.md, "Page fingerprints"): "QMFP" | version u8 = 2 |
// content_id 32 | page_size u32le | varint count |
// count x (fingerprint u64le | chunk id 32 | raw_len u32le) |
// XXH3-64 u64le of every byte before it.
// The decoder treats its input as hostile. It does not know the parent's
// chunk list: the caller checks that ContentIdOf(refs) is the capture's.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"
#include "core/tree.h"

namespace qm {

struct PageFingerprints {
  Hash256 content_id;  // of the capture they describe (its tree node's content_id)
  uint32_t page_size = 0;
  std::vector<uint64_t> chunks;  // XXH3-64 of each chunk, in file order
  std::vector<ChunkRef> refs;    // the capture's chunks, same length

  bool operator==(const PageFingerprints&) const = default;
};

inline constexpr uint8_t kPageFingerprintsVersion = 2;

Bytes EncodePageFingerprints(const PageFingerprints& fp);
Result<PageFingerprints> DecodePageFingerprints(ByteView data);

}  // namespace qm
