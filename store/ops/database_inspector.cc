#include "store/ops/database_inspector.h"

#include <sqlite3.h>

#include <memory>

#include "store/ops/snapshot_reader.h"
#include "store/ops/sqlite_check.h"

namespace qm {
namespace {

// Closes the connection on every path out.
struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close(db); }
};

Status SqliteError(sqlite3* db, const std::string& what) {
  return Status::Corruption(what, db != nullptr ? sqlite3_errmsg(db) : "out of memory");
}

Result<DatabaseSummary> Summarise(const std::string& path, const std::string& name) {
  Db d;
  if (sqlite3_open_v2(SqliteImmutableUri(path).c_str(), &d.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) !=
      SQLITE_OK)
    return SqliteError(d.db, "open " + name);
  DatabaseSummary out;
  auto scalar = [&](const std::string& sql) -> Result<int64_t> {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(d.db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return SqliteError(d.db, name);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
    if (sqlite3_step(st) != SQLITE_ROW) return SqliteError(d.db, name);
    return static_cast<int64_t>(sqlite3_column_int64(st, 0));
  };
  QM_ASSIGN_OR_RETURN(int64_t page_size, scalar("PRAGMA page_size"));
  QM_ASSIGN_OR_RETURN(int64_t page_count, scalar("PRAGMA page_count"));
  out.page_size = static_cast<uint32_t>(page_size);
  out.page_count = static_cast<uint64_t>(page_count);
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(d.db,
                           "SELECT name, coalesce(sql, '') FROM sqlite_schema WHERE type = 'table' AND name NOT "
                           "LIKE 'sqlite_%' ORDER BY name",
                           -1, &st, nullptr) != SQLITE_OK)
      return SqliteError(d.db, name);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      TableSummary t;
      t.name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      t.sql = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
      out.tables.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return SqliteError(d.db, name);
  }
  for (TableSummary& t : out.tables) {
    std::string quoted = "\"";
    for (char c : t.name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    // Virtual tables may need modules this build lacks: leave them at 0.
    auto rows = scalar("SELECT count(*) FROM " + quoted);
    if (rows.ok()) t.rows = static_cast<uint64_t>(*rows);
  }
  return out;
}

}  // namespace

std::optional<SqliteCaptureExt> DatabaseCaptureOf(const Node& node) {
  if (node.type != NodeType::kFile) return std::nullopt;
  for (const NodeExtension& x : node.extensions) {
    if (x.tag != kExtSqliteCapture) continue;
    auto ext = DecodeSqliteCaptureExt(x.value);
    if (ext.ok()) return *ext;
  }
  return std::nullopt;
}

Result<DatabaseSummary> InspectDatabase(Repository* repo, const Node& file, const std::string& tmp_dir) {
  Env* env = repo->env();
  const std::string path = JoinPath(
      tmp_dir, "qm-inspect-" + std::to_string(env->ProcessId()) + "-" + std::to_string(env->NowUnixNanos()) + ".db");
  Status s;
  {
    QM_ASSIGN_OR_RETURN(auto out, env->NewWritableFile(path, 0600));
    s = ReadFileContent(repo, file, [&](ByteView piece) { return out->Append(piece); });
    Status closed = out->Close();
    if (s.ok()) s = closed;
  }
  Result<DatabaseSummary> summary = s.ok() ? Summarise(path, file.name) : Result<DatabaseSummary>(s);
  env->RemoveFile(path).IgnoreError();
  return summary;
}

}  // namespace qm
