// Restoring over live data (the guide's restore procedure, done for the
// operator): into a directory that already holds QuantMesh's files.
//
// Plan first (also what --dry-run shows): which files the snapshot would
// create or replace, and which of the target's databases another process
// holds open. Then, in order:
//   1. refuse while a process holds a database (or its -wal/-shm) open,
//      unless `force`: restoring under a running service corrupts it;
//   2. take a safety snapshot of the target's current data tagged
//      `before-restore` (the guide's default set plus every top-level path
//      the restore touches), so the restore itself can be undone; if it
//      cannot be taken completely, nothing is restored;
//   3. restore with RestoreOptions::into_existing: every file written to a
//      temporary name, fsynced, renamed, so a crash leaves each file old or
//      new; stale -wal/-shm/-journal of restored databases set aside first
//      and removed after;
//   4. PRAGMA integrity_check on every restored database.
// Files in the target that the snapshot does not have are left alone.
//
// REQUIRES: `repo` opened for writing (the safety snapshot), except for
// PlanInPlaceRestore. `target` absolute.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/ops/progress.h"
#include "store/ops/restorer.h"
#include "store/repo/repository.h"

namespace qm {

struct InPlaceRestoreOptions {
  std::string target;
  // Globs (fnmatch) on the path, its base name, or a parent directory's
  // path: "config.yaml", "*.db", "config_backups". Empty includes: all.
  std::vector<std::string> includes, excludes;
  bool force = false;  // restore even while a database is held open
};

struct PlannedFile {
  std::string path;
  bool exists = false;  // false: created; true: replaced
  uint64_t size_now = 0, size_new = 0;
  bool database = false;
};

struct InPlaceRestoreResult {
  std::vector<PlannedFile> plan;
  // Databases of the plan that other processes hold open, with their pids.
  std::vector<std::pair<std::string, std::vector<int>>> held;
  std::optional<Hash256> safety_snapshot;  // none when the target held nothing to save
  RestoreResult restore;                   // with every restored database's integrity_check
};

// Whether `rel` passes the include/exclude globs.
bool RestoreSelects(const InPlaceRestoreOptions& options, const std::string& rel);

// The plan and the holders; writes nothing.
Result<InPlaceRestoreResult> PlanInPlaceRestore(Repository* repo, const Snapshot& snapshot,
                                                const InPlaceRestoreOptions& options);

// Plan, guards, safety snapshot, restore, checks. Aborted (nothing changed)
// when a database is held open and !force.
Result<InPlaceRestoreResult> RestoreInPlace(Repository* repo, const Snapshot& snapshot,
                                            const InPlaceRestoreOptions& options, ProgressSink* progress);

}  // namespace qm
