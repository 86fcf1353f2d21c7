// Restore straight from an export archive: the bare-machine drill, with no
// store. The archive is read once (archive_reader.h): every check `verify`
// makes is made while its files are written into a private staging folder
// inside the target, `DIR/.qm-archive-restore-<pid>`. Only when all pass
// are the staged entries renamed into DIR; otherwise the staging folder is
// removed (and DIR too, when this run created it), so a refused archive
// leaves nothing behind, and nothing is ever written outside DIR.
//
// The target must not exist or be an empty directory. Restored databases
// are standalone files (no -wal/-shm), each has passed integrity_check.
#pragma once

#include <string>

#include "core/result.h"
#include "store/io/env.h"
#include "store/ops/archive_reader.h"

namespace qm {

struct ArchiveRestoreOptions {
  std::string archive;
  std::string target;
};

struct ArchiveRestoreResult {
  ArchiveReport report;  // problems non-empty: refused, nothing restored
  double duration_s = 0;
};

Result<ArchiveRestoreResult> RestoreArchive(Env* env, const ArchiveRestoreOptions& options);

}  // namespace qm
