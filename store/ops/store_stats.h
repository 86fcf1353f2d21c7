// stats: how big a snapshot or the whole store is, and how well it
// deduplicates.
//
// For one snapshot: its files and logical size (from its record), and the
// distinct chunks it references with their stored (compressed) size, which
// needs every chunk list and one index lookup per distinct chunk. For the
// store: snapshot, pack and blob counts, bytes on disk in packs, and the
// logical size of all snapshots together, from records and file sizes only.
#pragma once

#include <cstdint>

#include "core/result.h"
#include "store/repo/repository.h"

namespace qm {

struct SnapshotStats {
  uint64_t files = 0;
  uint64_t bytes_logical = 0;
  uint64_t chunks = 0;         // references, counting repeats
  uint64_t unique_chunks = 0;  // distinct chunks
  uint64_t bytes_unique = 0;   // raw size of the distinct chunks
  uint64_t bytes_stored = 0;   // their size in packs (after zstd; a blob in a shared frame: its raw share of the frame)
};

struct StoreStats {
  uint64_t snapshots = 0;
  uint64_t packs = 0;
  uint64_t pack_bytes = 0;     // bytes of packs on disk
  uint64_t blobs = 0;          // chunks, trees and chunk-list blocks in the index
  uint64_t bytes_logical = 0;  // sum over snapshots of their logical size
};

Result<SnapshotStats> StatsOfSnapshot(Repository* repo, const Snapshot& snapshot);
Result<StoreStats> StatsOfStore(Repository* repo);

}  // namespace qm
