// Restore: snapshot -> directory, byte for byte, with modes and mtimes.
//
// Every chunk is verified against its SHA-256 as it is read, and every file
// against its content id and size before it takes its final name. Files are
// written to a temporary name beside their destination, fsynced, then
// renamed, so a crash never leaves a torn file under a real name.
//
// The target must not exist or be an empty directory: restoring over live
// data (with a safety snapshot first) is a separate, guarded operation.
#pragma once

#include <string>

#include "core/result.h"
#include "store/ops/progress.h"
#include "store/repo/repository.h"

namespace qm {

struct RestoreOptions {
  std::string target;
};

struct RestoreResult {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t symlinks = 0;
  uint64_t bytes = 0;
  double duration_s = 0;
};

Result<RestoreResult> Restore(Repository* repo, const Snapshot& snapshot, const RestoreOptions& options,
                              ProgressSink* progress);

}  // namespace qm
