// What a database in a snapshot holds, for `ls --long` and `diff`: its
// tables with row counts and schema, read by SQLite itself.
//
// The database is streamed from the store to a private (0600) temporary
// file under `tmp_dir`, opened read-only with immutable=1, and removed
// before returning (disk: the database's size, for the duration of the
// call). Only that file's chunks are read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/sqlite_extension.h"
#include "core/tree.h"
#include "store/repo/repository.h"

namespace qm {

struct TableSummary {
  std::string name;
  uint64_t rows = 0;
  std::string sql;  // CREATE TABLE statement, as stored by SQLite
};

struct DatabaseSummary {
  uint32_t page_size = 0;
  uint64_t page_count = 0;
  std::vector<TableSummary> tables;  // by name; sqlite_* internal tables left out
};

// The capture record a backup stored with a database file, if any: files
// without one are not databases to qm-snap.
std::optional<SqliteCaptureExt> DatabaseCaptureOf(const Node& node);

Result<DatabaseSummary> InspectDatabase(Repository* repo, const Node& file, const std::string& tmp_dir = "/tmp");

}  // namespace qm
