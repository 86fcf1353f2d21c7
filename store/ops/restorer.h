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

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/ops/progress.h"
#include "store/repo/repository.h"

namespace qm {

struct RestoreOptions {
  RestoreOptions() = default;
  explicit RestoreOptions(std::string target_dir) : target(std::move(target_dir)) {}

  std::string target;
  // Restore into a directory that already holds data (in_place_restorer.h
  // adds the guards around it). Existing files are replaced by rename, never
  // opened for writing; files the snapshot does not have are left alone.
  // Before a database takes its place, its old -wal, -shm and -journal are
  // renamed aside (NAME-wal.qm-stale…) and removed once the new file is
  // durable: SQLite would replay an old WAL or hot journal over the
  // restored file and corrupt it.
  bool into_existing = false;
  // Which files to restore (path relative to the snapshot root); empty:
  // all. Directories are created only on the way to a selected file.
  std::function<bool(const std::string& rel)> select;
  // After every file is in place: PRAGMA integrity_check of each restored
  // database (a file whose snapshot node records a SQLite capture), into
  // RestoreResult::integrity. Not counted in duration_s.
  bool check_databases = false;
};

struct RestoreResult {
  std::vector<std::string> sidecars_removed;  // stale -wal/-shm/-journal (into_existing)
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t symlinks = 0;
  uint64_t bytes = 0;
  double duration_s = 0;
  // check_databases: each restored database (relative path) and its
  // integrity_check result ("ok" or SQLite's first message).
  std::vector<std::pair<std::string, std::string>> integrity;
  bool all_intact() const {
    for (const auto& [path, result] : integrity)
      if (result != "ok") return false;
    return true;
  }
};

Result<RestoreResult> Restore(Repository* repo, const Snapshot& snapshot, const RestoreOptions& options,
                              ProgressSink* progress);

}  // namespace qm
