// diff: what changed between two snapshots, path by path; for databases
// also how many pages changed and which tables changed rows or schema.
//
// Directories whose tree blobs are identical are skipped without being
// loaded, so the cost follows the change, not the snapshot's size. Table
// deltas need both versions of a changed database materialised (see
// database_inspector.h); only `with_tables` asks for that.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/ops/database_inspector.h"
#include "store/repo/repository.h"

namespace qm {

struct TableChange {
  std::string name;
  int64_t rows_before = -1;  // -1: the table did not exist
  int64_t rows_after = -1;   // -1: the table no longer exists
  bool schema_changed = false;
};

struct PathChange {
  enum class Kind { kAdded, kRemoved, kModified };
  Kind kind = Kind::kModified;
  std::string path;
  NodeType type = NodeType::kFile;
  uint64_t size_before = 0, size_after = 0;
  bool database = false;
  // Databases (modified): pages in chunks of the new version that the old
  // one does not have, i.e. pages changed, give or take a chunk's granularity.
  uint64_t pages_changed = 0;
  uint32_t page_size = 0;
  std::vector<TableChange> tables;  // with_tables only: tables whose rows or schema changed
};

struct DiffOptions {
  bool with_tables = true;
  std::string tmp_dir = "/tmp";
};

Result<std::vector<PathChange>> DiffSnapshots(Repository* repo, const Snapshot& a, const Snapshot& b,
                                              const DiffOptions& options);

}  // namespace qm
