// Snapshot cache: copies of snapshot records, kept in one local cache file
// (R/cache/, never needed to restore) so that listing snapshots reads one
// file instead of one per snapshot. Thirty days of hourly runs are ~750
// records: reading each file cost ~16 us, 12 ms of every backup (which
// lists snapshots to find its parent) and of every `restore latest`.
//
// The cache is never trusted over snapshots/: the directory's listing says
// which snapshots exist, and a cached record is used only for a listed id
// and only when it hashes to that id (a snapshot's id is the SHA-256 of its
// record), so it is exactly the record the file holds.
//
// Format (docs/format.md, "Snapshot cache"): "QMSC" | version u8 = 1 |
// varint count | count x (lp record) | XXH3-64 u64le of every byte before
// it. The decoder treats its input as hostile; decoded records are views
// into its input, which must outlive them.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace qm {

inline constexpr uint8_t kSnapshotCacheVersion = 1;

Bytes EncodeSnapshotCache(const std::vector<ByteView>& records);
Result<std::vector<ByteView>> DecodeSnapshotCache(ByteView data);

}  // namespace qm
