// Import: an export archive brought into a store as a snapshot with its
// original time, host, source and tags (plus the tag "imported").
//
// The archive is extracted, with every check `verify` makes, into a private
// folder under the repository's tmp/ (disk: the archive's unpacked size),
// then backed up from there as any source is: databases through SQLite,
// page-chunked, deduplicated against what the store already holds. The
// folder is removed afterwards; a crash leaves it in tmp/, which the next
// writer clears. An archive with any problem is refused before anything is
// stored. An archive of a snapshot this store already holds is refused
// (same snapshot id), since importing it would only duplicate it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/ops/archive_reader.h"
#include "store/ops/archiver.h"
#include "store/ops/progress.h"
#include "store/repo/repository.h"

namespace qm {

struct ImportOptions {
  std::string archive;
  std::vector<std::string> tags;  // added to the archive's own and "imported"
};

struct ImportResult {
  ArchiveReport report;                // problems non-empty: refused, nothing stored
  std::optional<BackupResult> backup;  // the new snapshot, when imported
};

// REQUIRES: `repo` opened for writing.
Result<ImportResult> ImportArchive(Repository* repo, const ImportOptions& options, ProgressSink* progress);

}  // namespace qm
