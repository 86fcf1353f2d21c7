// Check: is every committed snapshot restorable?
//
// Structure: every pack's table of contents decodes; the chunk index agrees
// with the packs; every snapshot record decodes and hashes to its name; every
// tree and chunk a snapshot references exists in a pack and in the index.
// With read_data, every pack is read whole: its SHA-256 must match its name
// and every blob must decompress and hash to its id.
//
// Each problem is one sentence in `errors`, naming the object and, for
// damage, the snapshots it affects. Harmless findings (packs left by an
// interrupted backup) go to `notes`. Read-only: takes no lock, repairs nothing.
#pragma once

#include <string>
#include <vector>

#include "core/hash.h"
#include "core/result.h"
#include "store/ops/progress.h"
#include "store/repo/repository.h"

namespace qm {

struct CheckOptions {
  bool read_data = false;
};

struct CheckReport {
  uint64_t snapshots = 0;
  uint64_t packs = 0;
  uint64_t trees = 0;
  uint64_t chunks_referenced = 0;
  uint64_t blobs_verified = 0;  // with read_data
  std::vector<std::string> errors;
  std::vector<std::string> notes;
  std::vector<Hash256> damaged_snapshots;
  bool ok() const { return errors.empty(); }
};

Result<CheckReport> Check(Repository* repo, const CheckOptions& options, ProgressSink* progress);

}  // namespace qm
