// Helpers for tests: a private temporary directory, whole-file read/write,
// and deterministic pseudo-random data. Test code only: these use
// std::filesystem and report problems as gtest failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

struct sqlite3;

namespace qm {

// A fresh directory ($TMPDIR or /tmp, "qm-test-XXXXXX", mode 0700) that is
// removed with everything in it when the object is destroyed. Aborts if the
// directory cannot be created: no test can run without it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path, without a trailing slash.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Creates or replaces `path` (and any missing parent directories) with
// `content`. Failures are reported with ADD_FAILURE().
void WriteStringToFile(const std::string& path, const std::string& content);

// The whole content of `path`; "" plus ADD_FAILURE() if it cannot be read.
std::string ReadFileToString(const std::string& path);

// Relative path -> content of every regular file under `dir` (recursively).
std::map<std::string, std::string> FilesUnder(const std::string& dir);

// Creates a SQLite database at `path` (rollback journal, closed) holding a
// table of `rows` rows of pseudo-random text, deterministic from `seed`.
void MakeSqliteDatabase(const std::string& path, int rows, uint64_t seed);

// Runs `sql` (any number of statements) on an open connection; a failure is
// reported with ADD_FAILURE(), naming the statement.
void ExecSql(sqlite3* db, const std::string& sql);

// Opens `path` read-only and runs `sql`: the first column of every row, as
// text, joined by newlines ("ok" for a healthy PRAGMA quick_check). "cannot
// open" (with ADD_FAILURE()) or "error: <message>" when it cannot run.
std::string QuerySqlite(const std::string& path, const std::string& sql);

// `n` pseudo-random bytes, the same for the same (n, seed) on every platform
// and run (SplitMix64; no std:: distribution, whose output is unspecified).
// A shorter result is a prefix of a longer one with the same seed.
std::string RandomBytes(size_t n, uint64_t seed);

struct ShellResult {
  int code = -1;    // exit status; -1 if killed by a signal
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `command` with /bin/sh, capturing both output streams.
ShellResult RunShell(const std::string& command);
// Runs the qm-snap binary under test as cron runs it: through /bin/sh, with
// TZ=UTC and no terminal on stdin (</dev/null). `prefix` comes first: variable
// assignments ("QM_SNAP_REPO=R") or a "cd DIR &&"; `args` may go on into a
// pipeline ("ls latest | sort").
ShellResult Qm(const std::string& args, const std::string& prefix = "");

}  // namespace qm
