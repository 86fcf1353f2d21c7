// The snapshot record: the small file whose appearance in snapshots/ commits
// a snapshot. Its id is the SHA-256 of its encoding. Format in
// docs/format.md, "Snapshot records". Decoder treats input as hostile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

struct SnapshotTotals {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t bytes_logical = 0;  // sum of file sizes in the snapshot
  uint64_t bytes_read = 0;     // bytes read from the source by this run
  uint64_t bytes_added = 0;    // bytes newly written to packs (stored size)
  uint64_t chunks_total = 0;
  uint64_t chunks_new = 0;
  bool operator==(const SnapshotTotals&) const = default;
};

enum SnapshotFlags : uint32_t {
  kSnapshotDbsOnly = 1u << 0,  // --dbs-only
  kSnapshotPartial = 1u << 1,  // some source items could not be read
};

struct SnapshotRecord {
  int64_t time_unix = 0;  // seconds since the epoch, UTC
  uint32_t time_nanos = 0;
  std::string hostname;
  std::string username;
  std::string source;             // absolute source directory
  std::vector<std::string> tags;  // sorted, unique
  std::optional<Hash256> parent;
  Hash256 root_tree;
  SnapshotTotals totals;
  uint32_t flags = 0;
  std::string program_version;

  bool operator==(const SnapshotRecord&) const = default;
};

inline constexpr uint8_t kSnapshotFormatVersion = 1;

// Magic "QMSNAP", version byte, fields (docs/format.md).
Bytes EncodeSnapshotRecord(const SnapshotRecord& rec);
Result<SnapshotRecord> DecodeSnapshotRecord(ByteView data);

}  // namespace qm
