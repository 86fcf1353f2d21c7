// SqlitePageAudit against real SQLite files: healthy ones of every shape pass
// as they pass SQLite's full quick_check, and damage that only the full
// check's page accounting sees (per-table checks pass it) is found.
#include "core/sqlite_page_audit.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace qm {
namespace {

// Page numbers from a list SQLite printed, separated by `sep`.
std::vector<uint32_t> PageNumbers(const std::string& list, char sep) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < list.size();) {
    size_t j = list.find(sep, i);
    if (j == std::string::npos) j = list.size();
    out.push_back(static_cast<uint32_t>(std::stoul(list.substr(i, j - i))));
    i = j + 1;
  }
  return out;
}

std::vector<uint32_t> RootsOf(const std::string& path) {
  return PageNumbers(QuerySqlite(path, "SELECT rootpage FROM sqlite_schema WHERE rootpage > 0"), '\n');
}

// The big-endian u32 at `at` (SQLite's header fields and page pointers).
uint32_t Get32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | static_cast<uint8_t>(b[at + i]);
  return v;
}

// Reads page `p` of a file held in `bytes`, as the backup's callback reads
// it from the database.
Status ReadPageOf(const std::string& bytes, uint32_t ps, uint32_t p, Bytes* out) {
  if (p < 1 || uint64_t{p} * ps > bytes.size()) return Status::Corruption("no page " + std::to_string(p));
  const std::string s = bytes.substr((uint64_t{p} - 1) * ps, ps);
  out->assign(s.begin(), s.end());
  return Status::OK();
}

struct AuditRun {
  Status status;
  size_t memory_bytes = 0;          // held by the audit once every page was added
  std::vector<uint32_t> read_back;  // pages Finish read again
};

// Audits the file at `path` as a backup would: every page streamed, roots
// from sqlite_schema, pages read again from the same bytes. `reread` may
// alter what a page reads back as.
AuditRun AuditOf(const std::string& path, const std::function<void(uint32_t, Bytes*)>& reread = nullptr) {
  AuditRun run;
  const std::string bytes = ReadFileToString(path);
  auto audit =
      SqlitePageAudit::Start(AsBytes(bytes.substr(0, 100)), std::stoull(QuerySqlite(path, "PRAGMA page_count")));
  if (!audit.ok()) {
    run.status = audit.status();
    return run;
  }
  const uint32_t ps = audit->page_size();
  const uint64_t pages = bytes.size() / ps;
  for (uint64_t p = 1; p <= pages; p++) audit->AddPage(p, AsBytes(bytes.substr((p - 1) * ps, ps)));
  run.memory_bytes = audit->memory_bytes();
  run.status = audit->Finish(RootsOf(path), [&](uint32_t p, Bytes* out) {
    run.read_back.push_back(p);
    QM_RETURN_IF_ERROR(ReadPageOf(bytes, ps, p, out));
    if (reread) reread(p, out);
    return Status::OK();
  });
  return run;
}

Status Audit(const std::string& path) {
  return AuditOf(path).status;
}

// A database with every kind of page the audit must account for: table and
// index b-trees several levels deep, overflow chains from table rows and
// from index keys, a WITHOUT ROWID table, and a freelist of trunks and leaves.
void MakeShapes(const std::string& path, int page_size) {
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  ExecSql(db, "PRAGMA page_size=" + std::to_string(page_size) + "; PRAGMA journal_mode=DELETE;");
  ExecSql(db,
          "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL, big BLOB);"
          "CREATE INDEX t_k ON t(k); CREATE TABLE w(a TEXT PRIMARY KEY, b INTEGER) WITHOUT ROWID;"
          "CREATE TABLE gone(x);");
  ExecSql(db, "BEGIN");
  ExecSql(db,
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 3000) "
          "INSERT INTO t(k, big) SELECT hex(randomblob(1 + i % 40)), "
          "CASE WHEN i % 7 = 0 THEN randomblob(i * 3) ELSE NULL END FROM c");
  ExecSql(db,
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 40) "
          "INSERT INTO t(k) SELECT hex(randomblob(900 + i * 40)) FROM c");  // overflowing index keys
  ExecSql(db,
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 2000) "
          "INSERT INTO w SELECT hex(randomblob(12)) || i, i FROM c");
  ExecSql(db,
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 4000) "
          "INSERT INTO gone SELECT randomblob(100) FROM c");
  ExecSql(db, "COMMIT");
  ExecSql(db, "DROP TABLE gone; DELETE FROM t WHERE id % 5 = 0;");  // a freelist
  sqlite3_close(db);
}

TEST(SqlitePageAuditTest, HealthyDatabasesOfEveryShapePassAsTheyPassQuickCheck) {
  TempDir dir;
  for (int ps : {512, 4096, 65536}) {
    SCOPED_TRACE(ps);
    const std::string path = dir.path() + "/shapes" + std::to_string(ps) + ".db";
    MakeShapes(path, ps);
    ASSERT_EQ("ok", QuerySqlite(path, "PRAGMA quick_check"));
    ASSERT_NE("0", QuerySqlite(path, "PRAGMA freelist_count")) << "the shape includes a freelist";
    Status s = Audit(path);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

// Damage in the page accounting: each fails the full check and the audit,
// and two of them pass every per-table quick_check.
TEST(SqlitePageAuditTest, DamageOnlyTheAccountingSeesIsFound) {
  TempDir dir;
  const std::string base = dir.path() + "/base.db";
  MakeShapes(base, 4096);
  const std::string clean = ReadFileToString(base);
  auto be32 = [](std::string& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) b[at + i] = static_cast<char>(v >> (24 - 8 * i));
  };
  struct Case {
    const char* name;
    bool tables_pass;  // every per-table check passes it: only the accounting sees it
    std::function<void(std::string&)> damage;
  };
  const uint32_t pages = Get32(clean, 28);
  const std::vector<Case> cases = {
      {"a page nothing uses", true,
       [&](std::string& b) {
         b.append(4096, '\0');
         be32(b, 28, pages + 1);
       }},
      // quick_check(sqlite_schema) sees this one too.
      {"the header's freelist count one too many", false, [&](std::string& b) { be32(b, 36, Get32(b, 36) + 1); }},
      {"a freelist leaf that is page 2, in use by a table", true,
       [&](std::string& b) {
         const uint32_t trunk = Get32(b, 32);
         const size_t at = (size_t{trunk} - 1) * 4096;
         ASSERT_GT(Get32(b, at + 4), 0u);
         be32(b, at + 8, 2);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string bytes = clean;
    c.damage(bytes);
    const std::string path = dir.path() + "/damaged.db";
    WriteStringToFile(path, bytes);
    if (c.tables_pass) {
      for (const char* table : {"t", "w", "sqlite_schema"}) {
        EXPECT_EQ("ok", QuerySqlite(path, std::string("PRAGMA quick_check(") + table + ")")) << table;
      }
    }
    EXPECT_NE("ok", QuerySqlite(path, "PRAGMA quick_check"));
    Status s = Audit(path);
    EXPECT_EQ(Code::kCorruption, s.code()) << s.ToString();
  }
}

TEST(SqlitePageAuditTest, AutoVacuumIsNotSupportedAndBadHeadersAreRefused) {
  TempDir dir;
  const std::string path = dir.path() + "/av.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  ExecSql(db, "PRAGMA auto_vacuum=FULL; CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  sqlite3_close(db);
  EXPECT_EQ(Code::kNotSupported, Audit(path).code());
  EXPECT_FALSE(SqlitePageAudit::Start(AsBytes(std::string(100, 'x')), 10).ok());
  std::string header = ReadFileToString(path).substr(0, 100);
  header[16] = 0x03;  // page size 0x0300: not a power of two
  header[17] = 0x00;
  EXPECT_FALSE(SqlitePageAudit::Start(AsBytes(header), 10).ok());
}

// Only a b-tree page's references are kept, and an overflow page's next
// pointer stands in for its first four bytes; that holds below 2^24 pages,
// so larger files are left to SQLite's full check.
TEST(SqlitePageAuditTest, FilesOf2To24PagesOrMoreAreNotSupported) {
  TempDir dir;
  const std::string path = dir.path() + "/small.db";
  MakeShapes(path, 4096);
  const std::string header = ReadFileToString(path).substr(0, 100);
  EXPECT_TRUE(SqlitePageAudit::Start(AsBytes(header), (uint64_t{1} << 24) - 1).ok());
  EXPECT_EQ(Code::kNotSupported, SqlitePageAudit::Start(AsBytes(header), uint64_t{1} << 24).status().code());
}

// An overflow page in the middle of a chain that parses as an empty b-tree
// leaf: its next pointer (the type byte first) is past the last page. SQLite's
// check says so, and so must the audit, which keeps no first four bytes of a
// page that parses as a b-tree page.
TEST(SqlitePageAuditTest, AnOverflowPageThatParsesAsABtreePageBreaksItsChain) {
  TempDir dir;
  const std::string path = dir.path() + "/o.db";
  MakeShapes(path, 4096);
  std::string bytes = ReadFileToString(path);
  uint32_t page = 0;
  for (uint32_t p :
       PageNumbers(QuerySqlite(path, "SELECT group_concat(pageno) FROM dbstat WHERE pagetype='overflow'"), ',')) {
    const size_t at = (size_t{p} - 1) * 4096;
    if (bytes[at] == 0 && (bytes[at + 1] | bytes[at + 2] | bytes[at + 3]) != 0) {  // has a next page
      page = p;
      break;
    }
  }
  ASSERT_NE(0u, page) << "the shape has an overflow chain of two pages or more";
  ASSERT_TRUE(Audit(path).ok());
  const size_t at = (size_t{page} - 1) * 4096;
  bytes[at] = 0x0d;  // a table leaf with no cells
  for (int i = 1; i < 8; i++) bytes[at + i] = 0;
  WriteStringToFile(path, bytes);
  EXPECT_NE("ok", QuerySqlite(path, "PRAGMA quick_check"));
  Status s = Audit(path);
  EXPECT_EQ(Code::kCorruption, s.code()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("overflow page " + std::to_string(page))) << s.ToString();
}

// Pages the audit cannot parse (garbage where a b-tree page is referenced)
// and pages it never saw make it fail rather than pass.
TEST(SqlitePageAuditTest, UnparsableOrMissingPagesFailTheAudit) {
  TempDir dir;
  const std::string path = dir.path() + "/g.db";
  MakeShapes(path, 4096);
  std::string bytes = ReadFileToString(path);
  const std::string leaf = QuerySqlite(path, "SELECT pageno FROM dbstat WHERE name='t' AND pagetype='leaf' LIMIT 1");
  ASSERT_FALSE(leaf.empty());
  bytes[(std::stoul(leaf) - 1) * 4096] = 0x77;  // not a page type
  WriteStringToFile(path, bytes);
  EXPECT_EQ(Code::kCorruption, Audit(path).code());

  auto audit = SqlitePageAudit::Start(AsBytes(bytes.substr(0, 100)), bytes.size() / 4096);
  ASSERT_TRUE(audit.ok());
  for (uint64_t p = 2; p <= bytes.size() / 4096; p++) audit->AddPage(p, AsBytes(bytes.substr((p - 1) * 4096, 4096)));
  Status missing = audit->Finish({1}, [](uint32_t, Bytes*) { return Status::OK(); });
  EXPECT_EQ(Code::kCorruption, missing.code()) << "page 1 was never added";
}

// Pages out of order, or a page twice, fail the audit: it keeps the first
// bytes of non-b-tree pages in page order, without their page numbers.
TEST(SqlitePageAuditTest, PagesOutOfOrderFailTheAudit) {
  TempDir dir;
  const std::string path = dir.path() + "/order.db";
  MakeShapes(path, 4096);
  const std::string bytes = ReadFileToString(path);
  const uint64_t pages = bytes.size() / 4096;
  for (int variant = 0; variant < 2; variant++) {
    SCOPED_TRACE(variant);
    auto audit = SqlitePageAudit::Start(AsBytes(bytes.substr(0, 100)), pages);
    ASSERT_TRUE(audit.ok());
    std::vector<uint64_t> order;
    for (uint64_t p = 1; p <= pages; p++) order.push_back(p);
    if (variant == 0) std::swap(order[3], order[4]);  // every page once, two swapped
    if (variant == 1) order[4] = order[3];            // page 4 twice, page 5 never
    for (uint64_t p : order) audit->AddPage(p, AsBytes(bytes.substr((p - 1) * 4096, 4096)));
    Status s = audit->Finish(RootsOf(path), [&](uint32_t p, Bytes* out) { return ReadPageOf(bytes, 4096, p, out); });
    EXPECT_EQ(Code::kCorruption, s.code()) << s.ToString();
  }
}

// The audit's memory is about one byte per page of a database of tables
// and indexes: the children of interior pages are not kept but read again
// in Finish, and only interior pages and freelist trunks are read again.
TEST(SqlitePageAuditTest, KeepsAboutOneBytePerPageAndReadsBackOnlyInteriorAndTrunkPages) {
  TempDir dir;
  const std::string path = dir.path() + "/rows.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  ExecSql(db, "PRAGMA page_size=512; PRAGMA journal_mode=DELETE;");
  ExecSql(
      db,
      "CREATE TABLE trades(id INTEGER PRIMARY KEY, sym TEXT, px REAL, qty REAL); CREATE INDEX by_sym ON trades(sym);");
  ExecSql(db,
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 60000) "
          "INSERT INTO trades(sym, px, qty) SELECT hex(randomblob(4)), i * 0.5, i % 97 FROM c");
  ExecSql(db, "DELETE FROM trades WHERE id BETWEEN 10000 AND 12000");  // a freelist
  sqlite3_close(db);
  const uint64_t pages = std::stoull(QuerySqlite(path, "PRAGMA page_count"));
  ASSERT_GT(pages, 4000u);
  const uint64_t free_pages = std::stoull(QuerySqlite(path, "PRAGMA freelist_count"));
  ASSERT_GT(free_pages, 0u);
  ASSERT_LT(free_pages, pages / 20);

  AuditRun run = AuditOf(path);
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  // 1 byte of state per page and the first four bytes of each freelist page
  // (8 with the vector's spare capacity); keeping every child reference as
  // well took about 9 bytes per page.
  EXPECT_LT(run.memory_bytes, pages + 8 * free_pages + pages / 16) << pages << " pages, " << free_pages << " free";

  std::vector<uint32_t> expected =
      PageNumbers(QuerySqlite(path, "SELECT group_concat(pageno) FROM dbstat WHERE pagetype='internal'"), ',');
  ASSERT_FALSE(expected.empty());
  const std::string bytes = ReadFileToString(path);
  for (uint32_t trunk = Get32(bytes, 32); trunk != 0; trunk = Get32(bytes, (size_t{trunk} - 1) * 512))
    expected.push_back(trunk);
  std::vector<uint32_t> got = run.read_back;
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  // Each interior page and each freelist trunk read back once, nothing else.
  EXPECT_EQ(expected, got);
}

// An interior page must read back as the page AddPage parsed: if it does
// not (another type, or no longer parsing), the audit fails and the full
// check decides.
TEST(SqlitePageAuditTest, AnInteriorPageThatReadsBackDifferentlyFailsTheAudit) {
  TempDir dir;
  const std::string path = dir.path() + "/back.db";
  MakeShapes(path, 4096);
  const std::string interior =
      QuerySqlite(path, "SELECT pageno FROM dbstat WHERE name='t' AND pagetype='internal' LIMIT 1");
  ASSERT_FALSE(interior.empty());
  const uint32_t page = static_cast<uint32_t>(std::stoul(interior));
  ASSERT_TRUE(AuditOf(path).status.ok());
  for (uint8_t type : {uint8_t{0x0d}, uint8_t{0x77}}) {
    SCOPED_TRACE(static_cast<int>(type));
    AuditRun run = AuditOf(path, [&](uint32_t p, Bytes* out) {
      if (p == page) (*out)[0] = type;
    });
    EXPECT_EQ(Code::kCorruption, run.status.code()) << run.status.ToString();
    EXPECT_NE(std::string::npos, run.status.ToString().find("interior page " + interior)) << run.status.ToString();
  }
}

}  // namespace
}  // namespace qm
