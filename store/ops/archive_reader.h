// Verify: an export archive (docs/archive-format.md) checked with no store,
// as on the bare machine of a disaster-recovery drill.
//
// Checks, all of them, reporting every failure: the NAME.sha256 file beside
// the archive names the archive and matches its SHA-256; the tar stream
// decodes to the end; every entry lies under the top folder NAME/ (no
// absolute path, no "..", no link pointing out, no hard link or device, no
// duplicate); every file listed in backup_info.json is present with its size
// and SHA-256 and nothing else is; every SQLite database passes
// PRAGMA integrity_check. The archive is untrusted: it is read once as a
// stream (memory bounded), and decompression beyond 1000x the archive's size
// is refused as a bomb.
//
// A database is copied to a private temporary directory under `tmp_dir` for
// SQLite to open, and removed afterwards (disk: the largest database).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "store/io/env.h"

namespace qm {

struct VerifyOptions {
  std::string archive;  // path to NAME.tar.gz / .tar.zst / .tar.xz
  std::string tmp_dir = "/tmp";
};

struct VerifyReport {
  std::string name;  // NAME
  uint64_t files = 0;
  uint64_t databases = 0;
  uint64_t bytes = 0;
  std::vector<std::string> problems;  // one sentence each; empty means verified
  bool ok() const { return problems.empty(); }
};

// Only failures to run at all (archive unreadable) are errors; everything
// the archive gets wrong is a problem in the report.
Result<VerifyReport> VerifyArchive(Env* env, const VerifyOptions& options);

}  // namespace qm
