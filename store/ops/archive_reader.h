// Reading an export archive (docs/archive-format.md) with no store: the one
// checked walk behind `verify`, `restore ARCHIVE` and `import ARCHIVE`.
//
// Checks, all of them, reporting every failure: the NAME.sha256 file beside
// the archive names the archive and matches its SHA-256; the tar stream
// decodes to the end; every entry lies under the top folder NAME/ (no
// absolute path, no "..", no hard link or device, no duplicate, nothing
// below a symlink, no symlink pointing out of NAME/ or through another
// symlink); every file listed in backup_info.json is present with its size
// and SHA-256 and nothing else is; every SQLite database passes
// PRAGMA integrity_check. The archive is untrusted: it is read once as a
// stream (memory bounded), and decompression beyond 1000x the archive's size
// is refused as a bomb.
//
// Extraction (`extract_to` set): entries that pass the path checks are
// written below `extract_to` as they are read, files 0600 until complete,
// then given their archived mode (setuid/setgid/sticky dropped) and mtime
// and fsynced; directories get theirs last. Symlinks are created only after
// every file, so no write ever goes through a link. Nothing is written
// outside `extract_to`. When the report has problems, what was extracted
// must not be trusted: the caller removes it.
//
// Without extraction, a database is copied to a private temporary directory
// under `tmp_dir` for SQLite to open, and removed afterwards (disk: the
// largest database). SQLite opens databases with immutable=1, so no -wal or
// -shm file is ever created beside them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/io/env.h"

namespace qm {

struct ArchiveReadOptions {
  std::string archive;  // path to NAME.tar.gz / .tar.zst / .tar.xz
  std::string tmp_dir = "/tmp";
  std::string extract_to;  // empty: verify only; else an existing, empty, private directory
};

// backup_info.json's description of the snapshot (valid when the report is ok).
struct ArchiveInfo {
  std::string snapshot_id;
  int64_t time_unix = 0;
  std::string hostname;
  std::string source;
  std::vector<std::string> tags;
  std::string qm_snap_version;
};

struct ArchiveReport {
  std::string name;  // NAME
  uint64_t files = 0;
  uint64_t databases = 0;
  uint64_t bytes = 0;
  ArchiveInfo info;
  std::vector<std::string> problems;  // one sentence each; empty means verified
  bool ok() const { return problems.empty(); }
};

// Only failures to run at all (archive unreadable, extraction directory not
// writable) are errors; everything the archive gets wrong is a problem in
// the report.
Result<ArchiveReport> ReadArchive(Env* env, const ArchiveReadOptions& options);

}  // namespace qm
