// Backup: source directory -> snapshot.
//
// Data flows one way: select source items -> skip files the parent snapshot
// proves unchanged (size, mtime, ctime, inode, as restic does) -> FastCDC ->
// SHA-256 -> dedup against the store -> zstd -> pack -> tree blobs -> commit.
//
// What is taken by default is the QuantMesh operators' guide's set, relative
// to the source: data/quantmesh.db, data/auth.db, data/webauthn.db, logs.db
// (each with its -wal file when one exists), config.yaml, config_backups/,
// and logs/ files modified within `log_days` of the snapshot time. Missing
// guide items are warnings. `dbs_only` takes the four databases alone.
//
// On OK the snapshot is committed. Items that could not be read are listed
// in BackupResult::errors (the snapshot is flagged partial); a failure of the
// store itself returns an error and commits nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/result.h"
#include "core/snapshot_record.h"
#include "store/ops/progress.h"
#include "store/repo/repository.h"

namespace qm {

struct BackupOptions {
  std::string source;                    // absolute path of the data directory
  bool dbs_only = false;                 // the guide's hourly run: databases only
  std::vector<std::string> extra_paths;  // relative to source; files or directories
  std::vector<std::string> excludes;     // glob patterns; match the relative path or the base name
  std::vector<std::string> tags;
  std::optional<int64_t> time_unix;  // snapshot time; default now
  bool force_read = false;           // re-read every file, ignoring the parent
  int log_days = 7;
  int db_busy_timeout_ms = 10000;  // how long to wait for a database lock
  // PRAGMA quick_check of a changed database runs when its last passing
  // check (recorded in the parent's capture) is this old or older, on its
  // first capture, and on every --force-read run; 0: on every run.
  int64_t check_interval_s = 86400;
  unsigned threads = 0;  // hashing/compression workers; 0: one per core
  // Recorded in the snapshot (and used to find its parent) instead of
  // `source` and this host's name: `import` reads an extracted archive from
  // a temporary directory but records where and on which host it was taken.
  std::optional<std::string> record_source;
  std::optional<std::string> record_hostname;
};

struct BackupItemError {
  std::string path;
  Status status;
};

// How one SQLite database was taken (for --json and the operator).
struct DatabaseCapture {
  std::string path;         // relative to the source
  bool unchanged = false;   // proven unchanged since the parent: not read
  double read_hold_ms = 0;  // how long its read transaction was held
  uint32_t page_size = 0;
  uint64_t page_count = 0;
  bool wal = false;
  std::string quick_check;         // "ok", or "" when not run in this capture
  int64_t last_check_ns = 0;       // when its newest passing check ran (0: never)
  bool quick_check_split = false;  // checked per table on two connections plus page accounting
  bool read_direct = false;        // read from the files (and WAL frames), not through the backup API
  uint64_t wal_frames_read = 0;    // pages read from -wal frames
  uint64_t chunks_unchanged = 0;   // chunks reused by fingerprint, not hashed or stored
};

struct BackupResult {
  Hash256 snapshot_id;
  std::vector<DatabaseCapture> databases;
  SnapshotRecord record;
  double duration_s = 0;
  std::vector<std::string> warnings;
  std::vector<BackupItemError> errors;
};

// The guide's default selection (exposed for tests and `help`).
const std::vector<std::string>& DefaultDatabasePaths();

Result<BackupResult> Backup(Repository* repo, const BackupOptions& options, ProgressSink* progress);

}  // namespace qm
