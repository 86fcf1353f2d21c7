// SqliteSource: a consistent, streamed capture of a live database.
#include "store/ops/sqlite_source.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace qm {
namespace {

// Captures `path` into one string of pages; `during` runs before each page
// is taken.
Result<std::string> Capture(const std::string& path, SqliteStateInfo* info = nullptr,
                            const std::function<void(uint64_t page_no)>& during = nullptr) {
  QM_ASSIGN_OR_RETURN(auto src, SqliteSource::Open(path, 1000));
  std::string image, page1;
  uint64_t expect = 2;
  QM_RETURN_IF_ERROR(src->Stream([&](uint64_t page_no, ByteView page) {
    if (during) during(page_no);
    if (page_no == 1) {
      if (!page1.empty()) return Status::Corruption("page 1 twice");
      page1 = AsString(page);
      return Status::OK();
    }
    if (page_no != expect++) return Status::Corruption("out of order");
    image.append(AsString(page));
    return Status::OK();
  }));
  image = page1 + image;
  src->End();
  if (info) *info = src->info();
  return image;
}

// A writer on a new WAL database with table t(id, v) that never checkpoints
// on its own, so commits stay in the -wal; nullptr if it cannot be opened.
sqlite3* OpenWalWriter(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return nullptr;
  }
  ExecSql(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
  ExecSql(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  return db;
}

// Opens (creating) `path` and runs `sql` on it; nullptr if it cannot be opened.
sqlite3* OpenAndExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return nullptr;
  }
  ExecSql(db, sql);
  return db;
}

// `n` rows of `v` = prefix || 60 random hex digits, as one insert.
std::string InsertRows(int n, const std::string& prefix) {
  return "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < " + std::to_string(n) +
         ") INSERT INTO t(v) SELECT '" + prefix + "' || hex(randomblob(30)) FROM n;";
}

class SqliteSourceTest : public ::testing::TestWithParam<std::tuple<bool, int>> {};

TEST_P(SqliteSourceTest, AQuiescentDatabaseIsCapturedByteForByte) {
  const auto [wal, page_size] = GetParam();
  TempDir dir;
  const std::string path = dir.path() + "/q.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  ExecSql(db, "PRAGMA page_size=" + std::to_string(page_size));
  ExecSql(db, std::string("PRAGMA journal_mode=") + (wal ? "WAL" : "DELETE"));
  ExecSql(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX tv ON t(v);");
  ExecSql(db, "BEGIN");
  // Far more pages than the sink's 1 MiB page cache holds.
  ExecSql(db,
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000) "
          "INSERT INTO t(v) SELECT hex(randomblob(60)) FROM n");
  ExecSql(db, "COMMIT");
  sqlite3_close(db);  // checkpoints: the file alone holds everything
  SqliteStateInfo info;
  auto image = Capture(path, &info);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  const std::string file = ReadFileToString(path);
  ASSERT_EQ(file.size(), image->size());
  size_t first_diff = file.size();
  for (size_t i = 0; i < file.size(); i++) {
    if (file[i] != (*image)[i]) {
      first_diff = i;
      break;
    }
  }
  EXPECT_EQ(file.size(), first_diff) << "first differing byte";
  EXPECT_EQ(static_cast<uint32_t>(page_size), info.page_size);
  EXPECT_EQ(wal, info.wal);
  EXPECT_EQ(image->size(), info.page_count * info.page_size);
  // Both modes read the file themselves (WAL: its WAL is empty).
  EXPECT_TRUE(info.direct_read);
  EXPECT_EQ(0u, info.wal_frames_read);
}

INSTANTIATE_TEST_SUITE_P(JournalModesAndPageSizes, SqliteSourceTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(512, 4096, 65536)));

TEST(SqliteSourceWalTest, CommitsThatLiveOnlyInTheWalAreCaptured) {
  TempDir dir;
  const std::string path = dir.path() + "/w.db";
  sqlite3* db = OpenWalWriter(path);
  ASSERT_NE(nullptr, db);
  for (int i = 0; i < 200; i++) ExecSql(db, "INSERT INTO t(v) VALUES ('row" + std::to_string(i) + "')");
  // The writer stays open: nothing has been checkpointed into the file.
  ASSERT_LE(ReadFileToString(path).size(), 4096u * 2);
  SqliteStateInfo info;
  auto image = Capture(path, &info);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  const std::string copy = dir.path() + "/copy.db";
  WriteStringToFile(copy, *image);  // alone, without a -wal beside it
  EXPECT_EQ("ok", QuerySqlite(copy, "PRAGMA integrity_check"));
  EXPECT_EQ("200", QuerySqlite(copy, "SELECT count(*) FROM t"));
  EXPECT_TRUE(info.direct_read) << "the WAL's frames were read by us, not through the backup API";
  EXPECT_GT(info.wal_frames_read, 0u);
  // The source's -wal is still there: qm-snap never checkpoints.
  EXPECT_TRUE(std::ifstream(path + "-wal").good());
  EXPECT_GT(ReadFileToString(path + "-wal").size(), 0u);
  sqlite3_close(db);
}

// A WAL database whose frames update pages of the file, append pages past
// its end and update some pages twice: reading the file and the frames
// ourselves gives exactly SQLite's own copy (the backup API's), header
// counters apart (the backup API's copy gets the file's).
TEST(SqliteSourceWalTest, ReadingTheFramesOurselvesGivesSqlitesOwnCopy) {
  for (int page_size : {512, 4096, 65536}) {
    SCOPED_TRACE(page_size);
    TempDir dir;
    const std::string path = dir.path() + "/w.db";
    sqlite3* db =
        OpenAndExec(path, "PRAGMA page_size=" + std::to_string(page_size) +
                              "; PRAGMA journal_mode=WAL;"
                              "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX tv ON t(v);" +
                              InsertRows(3000, "") + "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint=0;");
    ASSERT_NE(nullptr, db);
    const uint64_t file_size = ReadFileToString(path).size();
    ExecSql(db, "UPDATE t SET v = hex(randomblob(40)) WHERE id % 7 = 0");
    ExecSql(db, "UPDATE t SET v = 'twice' WHERE id % 49 = 0");
    ExecSql(db, InsertRows(1000, ""));
    ASSERT_EQ(file_size, ReadFileToString(path).size()) << "nothing checkpointed";
    SqliteStateInfo direct, api;
    auto ours = Capture(path, &direct);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    SqliteSource::SetReadWalDirectlyForTest(false);
    auto theirs = Capture(path, &api);
    SqliteSource::SetReadWalDirectlyForTest(true);
    ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
    EXPECT_TRUE(direct.direct_read);
    EXPECT_FALSE(api.direct_read);
    EXPECT_GT(direct.wal_frames_read, 0u);
    EXPECT_GT(direct.page_count * page_size, file_size) << "pages past the end of the file came from the WAL";
    ASSERT_EQ(theirs->size(), ours->size());
    for (size_t at : {24, 40, 92}) {  // change counter, schema cookie, version-valid-for
      ours->replace(at, 4, 4, '\0');
      theirs->replace(at, 4, 4, '\0');
    }
    EXPECT_TRUE(*ours == *theirs) << "the two copies differ";
    const std::string copy = dir.path() + "/copy.db";
    WriteStringToFile(copy, *ours);
    EXPECT_EQ("ok", QuerySqlite(copy, "PRAGMA integrity_check"));
    EXPECT_EQ("4000", QuerySqlite(copy, "SELECT count(*) FROM t"));
    EXPECT_EQ("61", QuerySqlite(copy, "SELECT count(*) FROM t WHERE v = 'twice'"));
    sqlite3_close(db);
  }
}

// While the copy reads, the application commits and checkpoints. With
// frames in the WAL (nothing copied back yet), the checkpoint copies our
// state's frames into the file while we read it: the copy is still the
// state the read began at. With every frame already in the file, the next
// commit restarts the WAL over the frames: the copy notices the rewritten
// frames, reads those pages from the file, and is still that state.
TEST(SqliteSourceWalTest, CheckpointsAndWalRestartsDuringTheCopyDoNotReachIt) {
  for (bool backfilled : {false, true}) {
    SCOPED_TRACE(backfilled ? "every frame already in the file" : "frames not yet in the file");
    TempDir dir;
    const std::string path = dir.path() + "/w.db";
    sqlite3* db = OpenAndExec(path,
                              "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                              "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" +
                                  InsertRows(5000, "first") +
                                  // The state's frames are the WAL's first: a restart writes over them.
                                  "PRAGMA wal_checkpoint(TRUNCATE);"
                                  "UPDATE t SET v = 'begin' || hex(randomblob(30))");
    ASSERT_NE(nullptr, db);
    if (backfilled) ExecSql(db, "PRAGMA wal_checkpoint(PASSIVE)");
    int checkpointed = -1;
    SqliteStateInfo info;
    auto image = Capture(path, &info, [&](uint64_t page_no) {
      if (page_no != 3) return;
      ExecSql(db, "UPDATE t SET v = 'later' || hex(randomblob(30))");
      sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, &checkpointed);
    });
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    EXPECT_TRUE(info.direct_read);
    if (backfilled) {
      EXPECT_TRUE(info.wal_restarted) << "the WAL restarted over the state's frames";
      EXPECT_EQ(0, checkpointed) << "copying the new frames waits for our read";
    } else {
      EXPECT_FALSE(info.wal_restarted);
      EXPECT_GT(info.wal_frames_read, 0u);
      EXPECT_GT(checkpointed, 0) << "the checkpoint copied frames into the file during the read";
    }
    const std::string copy = dir.path() + "/copy.db";
    WriteStringToFile(copy, *image);
    EXPECT_EQ("ok", QuerySqlite(copy, "PRAGMA integrity_check"));
    EXPECT_EQ("5000", QuerySqlite(copy, "SELECT count(*) FROM t WHERE v LIKE 'begin%'"));
    EXPECT_EQ("5000", QuerySqlite(path, "SELECT count(*) FROM t WHERE v LIKE 'later%'"));
    sqlite3_close(db);
  }
}

// A checkpoint that our read holds back copies frames up to our mark but
// skips every page whose last frame is past it, and still records those
// frames as copied: the file is then not our state even though every frame
// of it counts as copied. The pages come from the frames.
TEST(SqliteSourceWalTest, ACheckpointHeldBackByOurReadDoesNotMakeTheFileTheState) {
  TempDir dir;
  const std::string path = dir.path() + "/w.db";
  sqlite3* db = OpenAndExec(path,
                            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" +
                                InsertRows(2000, "old") + "PRAGMA wal_checkpoint(TRUNCATE);");
  ASSERT_NE(nullptr, db);
  ExecSql(db, "UPDATE t SET v = 'ours' || hex(randomblob(30))");  // every page in frames of our state
  auto src = SqliteSource::Open(path, 1000, SqliteCheck::kSkip);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ExecSql(db, "UPDATE t SET v = 'later' || hex(randomblob(30)) WHERE id > 1000");  // half the pages again
  int log = -1, checkpointed = -1;
  ASSERT_EQ(SQLITE_OK, sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &checkpointed));
  ASSERT_GT(checkpointed, 0);
  ASSERT_LT(checkpointed, log) << "held back by our read";
  std::string image(static_cast<size_t>((*src)->info().page_count * (*src)->info().page_size), '\0');
  const uint32_t ps = (*src)->info().page_size;
  Status streamed = (*src)->Stream([&](uint64_t page_no, ByteView page) {
    std::memcpy(image.data() + (page_no - 1) * ps, page.data(), ps);
    return Status::OK();
  });
  ASSERT_TRUE(streamed.ok()) << streamed.ToString();
  EXPECT_TRUE((*src)->info().direct_read);
  EXPECT_GT((*src)->info().wal_frames_read, 0u);
  (*src)->End();
  const std::string copy = dir.path() + "/copy.db";
  WriteStringToFile(copy, image);
  EXPECT_EQ("ok", QuerySqlite(copy, "PRAGMA integrity_check"));
  EXPECT_EQ("2000", QuerySqlite(copy, "SELECT count(*) FROM t WHERE v LIKE 'ours%'"));
  sqlite3_close(db);
}

// Frames that do not check against the WAL-index header are never read by
// us: SQLite's backup API copies the state instead.
TEST(SqliteSourceWalTest, AFrameThatDoesNotCheckIsLeftToSqlite) {
  TempDir dir;
  const std::string path = dir.path() + "/w.db";
  sqlite3* db = OpenWalWriter(path);
  ASSERT_NE(nullptr, db);
  for (int i = 0; i < 20; i++) ExecSql(db, "INSERT INTO t(v) VALUES ('row" + std::to_string(i) + "')");
  auto src = SqliteSource::Open(path, 1000, SqliteCheck::kSkip);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  {
    // A flipped bit in frame 1's checksum, under the open read transaction.
    std::fstream wal(path + "-wal", std::ios::in | std::ios::out | std::ios::binary);
    wal.seekg(32 + 16);
    char c = 0;
    wal.read(&c, 1);
    c ^= 1;
    wal.seekp(32 + 16);
    wal.write(&c, 1);
  }
  uint64_t pages = 0;
  Status streamed = (*src)->Stream([&](uint64_t, ByteView) {
    pages++;
    return Status::OK();
  });
  ASSERT_TRUE(streamed.ok()) << streamed.ToString();
  EXPECT_FALSE((*src)->info().direct_read);
  EXPECT_EQ((*src)->info().page_count, pages);
  (*src)->End();
  sqlite3_close(db);
}

TEST(SqliteSourceErrorTest, GarbageAndTruncatedDatabasesAreClearErrorsNamingTheFile) {
  TempDir dir;
  const std::string garbage = dir.path() + "/garbage.db";
  WriteStringToFile(garbage, "SQLite format 3" + std::string(1, '\0') + RandomBytes(8000, 1));
  auto r = Capture(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string::npos, r.status().message().find(garbage)) << r.status().ToString();

  const std::string good = dir.path() + "/good.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(good.c_str(), &db));
  ExecSql(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  ExecSql(db, "BEGIN");
  for (int i = 0; i < 2000; i++) ExecSql(db, "INSERT INTO t(v) VALUES (hex(randomblob(50)))");
  ExecSql(db, "COMMIT");
  sqlite3_close(db);
  const std::string truncated = dir.path() + "/truncated.db";
  std::string bytes = ReadFileToString(good);
  WriteStringToFile(truncated, bytes.substr(0, bytes.size() / 2));
  auto src = SqliteSource::Open(truncated, 1000);
  if (src.ok()) src.value()->StartQuickCheck();  // on its own thread where it can
  Status s = src.ok() ? src.value()->WaitQuickCheck() : src.status();
  EXPECT_FALSE(s.ok()) << "a truncated database is not silently captured";
  EXPECT_NE(std::string::npos, s.message().find(truncated)) << s.ToString();
}

TEST(SqliteSourceErrorTest, ADatabaseLockedPastTheTimeoutIsLocked) {
  TempDir dir;
  const std::string path = dir.path() + "/l.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  ExecSql(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  ExecSql(db, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (2);");
  auto src = SqliteSource::Open(path, 200);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(Code::kLocked, src.status().code()) << src.status().ToString();
  ExecSql(db, "COMMIT");
  sqlite3_close(db);
}

// Rollback mode: quick_check runs on a second connection in the same state,
// on its own thread beside the stream, and finds what the stream's state
// holds; while that read transaction is open no writer can commit. WAL mode:
// one connection, the check runs when waited for, after the stream.
TEST(SqliteSourceCheckTest, BothModesCheckOnASecondConnectionInTheSameState) {
  TempDir dir;
  for (bool wal : {false, true}) {
    SCOPED_TRACE(wal ? "WAL" : "rollback");
    const std::string path = dir.path() + (wal ? "/w.db" : "/r.db");
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, std::string("PRAGMA journal_mode=") + (wal ? "WAL" : "DELETE"));
    ExecSql(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    sqlite3_busy_timeout(db, 100);
    auto src = SqliteSource::Open(path, 1000);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_TRUE((*src)->CanCheckConcurrently());
    (*src)->StartQuickCheck();
    uint64_t pages = 0;
    Status streamed = (*src)->Stream([&](uint64_t, ByteView) {
      pages++;
      return Status::OK();
    });
    Status qc = (*src)->WaitQuickCheck();
    EXPECT_TRUE(streamed.ok()) << streamed.ToString();
    EXPECT_TRUE(qc.ok()) << qc.ToString();
    EXPECT_EQ("ok", (*src)->info().quick_check);
    EXPECT_EQ((*src)->info().page_count, pages);
    // In rollback mode the read transaction blocks commits (WAL: never).
    const int rc = sqlite3_exec(db, "INSERT INTO t VALUES (2)", nullptr, nullptr, nullptr);
    EXPECT_EQ(wal ? SQLITE_OK : SQLITE_BUSY, rc);
    (*src)->End();
    ExecSql(db, "INSERT INTO t VALUES (3)");
    sqlite3_close(db);
  }
}

// WAL mode: a commit between the source's read transaction and the check
// connection's would give the check another state than the copy's. It is
// noticed (the WAL-index header changed), the connection is not used, and
// after a few tries the check runs on the source's own connection after the
// copy, on the copy's state. A commit on the first try only costs that try.
TEST(SqliteSourceCheckTest, AWalCommitBetweenTheTwoBeginsIsNoticedAndTheCheckStaysOnTheCopysState) {
  TempDir dir;
  const std::string path = dir.path() + "/w.db";
  sqlite3* db = OpenWalWriter(path);
  ASSERT_NE(nullptr, db);
  ExecSql(db, "INSERT INTO t(v) VALUES ('a')");
  for (int commit_on_tries : {1, 99}) {
    SCOPED_TRACE(commit_on_tries == 1 ? "a commit on the first try" : "a commit on every try");
    int tries = 0;
    std::string rows_at_begin;  // what the source's last read transaction sees
    SqliteSource::SetBetweenBeginsHookForTest([&] {
      rows_at_begin = QuerySqlite(path, "SELECT count(*) FROM t");
      if (tries++ < commit_on_tries) ExecSql(db, "INSERT INTO t(v) VALUES ('between')");
    });
    auto src = SqliteSource::Open(path, 1000);
    SqliteSource::SetBetweenBeginsHookForTest(nullptr);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_EQ(commit_on_tries == 1, (*src)->CanCheckConcurrently());
    EXPECT_EQ(commit_on_tries == 1 ? 2 : SqliteSource::kWalPinTries, tries);
    (*src)->StartQuickCheck();
    std::string image, page1;
    Status streamed = (*src)->Stream([&](uint64_t page_no, ByteView page) {
      if (page_no == 1) {
        page1 = AsString(page);
      } else {
        image.append(AsString(page));
      }
      return Status::OK();
    });
    ASSERT_TRUE(streamed.ok()) << streamed.ToString();
    // Its state known, the copy reads the files itself; not known, SQLite does.
    EXPECT_EQ(commit_on_tries == 1, (*src)->info().direct_read);
    Status qc = (*src)->WaitQuickCheck();
    EXPECT_TRUE(qc.ok()) << qc.ToString();
    EXPECT_EQ("ok", (*src)->info().quick_check);
    (*src)->End();
    // The copy is the state the source's transaction began at, whatever
    // was committed after it.
    const std::string copy = dir.path() + "/copy.db";
    WriteStringToFile(copy, page1 + image);
    EXPECT_EQ(rows_at_begin, QuerySqlite(copy, "SELECT count(*) FROM t"));
    // Every try committing: the last commit came after the transaction began.
    EXPECT_EQ(commit_on_tries == 1, rows_at_begin == QuerySqlite(path, "SELECT count(*) FROM t"));
  }
  sqlite3_close(db);
}

// A backup starts every database's check at once; each check reports on its
// own database: a page of garbage in one is found, the other is "ok".
TEST(SqliteSourceCheckTest, ChecksStartedTogetherEachReportOnTheirOwnDatabase) {
  TempDir dir;
  std::vector<std::string> paths = {dir.path() + "/good.db", dir.path() + "/bad.db"};
  for (const auto& path : paths) {
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); BEGIN;");
    for (int i = 0; i < 3000; i++) ExecSql(db, "INSERT INTO t(v) VALUES (hex(randomblob(60)))");
    ExecSql(db, "COMMIT");
    sqlite3_close(db);
  }
  std::string bytes = ReadFileToString(paths[1]);
  ASSERT_GT(bytes.size(), 20u * 4096);
  std::memset(bytes.data() + 10 * 4096, 0x5a, 4096);  // a leaf in the middle of t
  WriteStringToFile(paths[1], bytes);
  std::vector<std::unique_ptr<SqliteSource>> srcs;
  for (const auto& path : paths) {
    auto src = SqliteSource::Open(path, 1000);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    ASSERT_TRUE((*src)->CanCheckConcurrently());
    srcs.push_back(std::move(src).value());
  }
  for (auto& src : srcs) src->StartQuickCheck();
  for (auto& src : srcs) EXPECT_TRUE(src->Stream([](uint64_t, ByteView) { return Status::OK(); }).ok());
  Status good = srcs[0]->WaitQuickCheck();
  Status bad = srcs[1]->WaitQuickCheck();
  EXPECT_TRUE(good.ok()) << good.ToString();
  EXPECT_EQ("ok", srcs[0]->info().quick_check);
  EXPECT_EQ(Code::kCorruption, bad.code()) << bad.ToString();
  EXPECT_NE(std::string::npos, bad.message().find(paths[1])) << bad.ToString();
  EXPECT_NE("ok", srcs[1]->info().quick_check);
  EXPECT_EQ(bad.ToString(), srcs[1]->WaitQuickCheck().ToString()) << "a second wait gives the same answer";
}

// Sets the split-check threshold for one scope.
struct ScopedSplitCheck {
  explicit ScopedSplitCheck(uint64_t pages) : old(SqliteSource::SplitCheckMinPages()) {
    SqliteSource::SetSplitCheckMinPages(pages);
  }
  ~ScopedSplitCheck() { SqliteSource::SetSplitCheckMinPages(old); }
  uint64_t old;
};

// How MakeTables leaves the database.
enum class Journal { kRollback, kWalCheckpointed, kWalInFrames };

void MakeTables(const std::string& path, Journal journal = Journal::kRollback) {
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  if (journal != Journal::kRollback) ExecSql(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
  // In frames: nothing is copied into the database file, even at close.
  if (journal == Journal::kWalInFrames) sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  ExecSql(db,
          "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE INDEX a_v ON a(v);"
          "CREATE TABLE 'b c'(x, y BLOB); CREATE TABLE gone(z); BEGIN;");
  for (int i = 0; i < 3000; i++) {
    ExecSql(db, "INSERT INTO a(v) VALUES (hex(randomblob(30)))");
    ExecSql(db, "INSERT INTO 'b c' VALUES (" + std::to_string(i) + ", randomblob(" +
                    std::to_string(i % 5 == 0 ? 6000 : 20) + "))");
    ExecSql(db, "INSERT INTO gone VALUES (randomblob(50))");
  }
  ExecSql(db, "COMMIT; DROP TABLE gone;");  // leaves a freelist
  sqlite3_close(db);
}

Status CheckStreamed(const std::string& path, bool* split, std::string* verdict, uint64_t* frames_read = nullptr) {
  QM_ASSIGN_OR_RETURN(auto src, SqliteSource::Open(path, 1000));
  src->StartQuickCheck();
  QM_RETURN_IF_ERROR(src->Stream([](uint64_t, ByteView) { return Status::OK(); }));
  Status qc = src->WaitQuickCheck();
  *split = src->info().split_check;
  *verdict = src->info().quick_check;
  if (frames_read) *frames_read = src->info().wal_frames_read;
  return qc;
}

// A large enough database is checked per table on two connections plus the
// page accounting of the streamed pages: "ok" for a healthy one (overflow
// pages, an index, a freelist, a quoted table name), in rollback mode and in
// WAL mode, where the state may live in the WAL's frames, page 1 included
// (the file's page 1 is then the empty database's).
TEST(SqliteSourceSplitCheckTest, AHealthyDatabaseIsOkBySplitCheck) {
  for (Journal journal : {Journal::kRollback, Journal::kWalCheckpointed, Journal::kWalInFrames}) {
    SCOPED_TRACE(static_cast<int>(journal));
    ScopedSplitCheck all(0);
    TempDir dir;
    const std::string path = dir.path() + "/ok.db";
    MakeTables(path, journal);
    const bool in_frames = journal == Journal::kWalInFrames;
    if (in_frames) {
      ASSERT_GT(ReadFileToString(path + "-wal").size(), 1000000u);
    }
    bool split = false;
    std::string verdict;
    uint64_t frames_read = 0;
    Status s = CheckStreamed(path, &split, &verdict, &frames_read);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ("ok", verdict);
    EXPECT_TRUE(split);
    EXPECT_EQ(in_frames, frames_read > 0);
    ScopedSplitCheck none(~uint64_t{0});
    s = CheckStreamed(path, &split, &verdict);
    EXPECT_TRUE(s.ok());
    EXPECT_FALSE(split) << "below the threshold the check is whole";
  }
}

// A page nothing uses passes every per-table check; the accounting finds it,
// and the verdict is then SQLite's own full check, in its words.
TEST(SqliteSourceSplitCheckTest, ALeakedPageIsFoundAndReportedInSqlitesWords) {
  for (bool wal : {false, true}) {
    SCOPED_TRACE(wal ? "WAL" : "rollback");
    ScopedSplitCheck all(0);
    TempDir dir;
    const std::string path = dir.path() + "/leak.db";
    MakeTables(path);
    std::string bytes = ReadFileToString(path);
    const uint32_t pages = static_cast<uint32_t>(bytes.size() / 4096);
    bytes.append(4096, '\0');
    for (int i = 0; i < 4; i++) bytes[28 + i] = static_cast<char>((pages + 1) >> (24 - 8 * i));
    WriteStringToFile(path, bytes);
    if (wal) {
      sqlite3* db = OpenAndExec(path, "PRAGMA journal_mode=WAL");
      sqlite3_close(db);
      ASSERT_EQ("wal", QuerySqlite(path, "PRAGMA journal_mode"));
    }
    ASSERT_EQ("ok", QuerySqlite(path, "PRAGMA quick_check(a)"));
    bool split = true;
    std::string verdict;
    Status s = CheckStreamed(path, &split, &verdict);
    EXPECT_EQ(Code::kCorruption, s.code()) << s.ToString();
    EXPECT_FALSE(split);
    EXPECT_NE(std::string::npos, verdict.find("is never used")) << verdict;
  }
}

// Waiting without streaming every page (an interrupted copy) cannot prove
// the accounting: the full check decides.
TEST(SqliteSourceSplitCheckTest, WithoutTheWholeStreamTheFullCheckDecides) {
  ScopedSplitCheck all(0);
  TempDir dir;
  const std::string path = dir.path() + "/part.db";
  MakeTables(path);
  auto src = SqliteSource::Open(path, 1000);
  ASSERT_TRUE(src.ok());
  (*src)->StartQuickCheck();
  Status stopped =
      (*src)->Stream([](uint64_t page_no, ByteView) { return page_no < 10 ? Status::OK() : Status::Aborted("stop"); });
  EXPECT_FALSE(stopped.ok());
  EXPECT_TRUE((*src)->WaitQuickCheck().ok());
  EXPECT_EQ("ok", (*src)->info().quick_check);
  EXPECT_FALSE((*src)->info().split_check);
}

// Ending the transaction before waiting leaves a split check without a
// verdict: waiting then is an error, never an "ok" nobody decided.
TEST(SqliteSourceSplitCheckTest, WaitingAfterEndIsAnErrorNotAnOk) {
  ScopedSplitCheck all(0);
  TempDir dir;
  const std::string path = dir.path() + "/end.db";
  MakeTables(path);
  auto src = SqliteSource::Open(path, 1000);
  ASSERT_TRUE(src.ok());
  (*src)->StartQuickCheck();
  ASSERT_TRUE((*src)->Stream([](uint64_t, ByteView) { return Status::OK(); }).ok());
  (*src)->End();
  Status late = (*src)->WaitQuickCheck();
  EXPECT_EQ(Code::kInvalidArgument, late.code()) << late.ToString();
  EXPECT_EQ("", (*src)->info().quick_check);
}

}  // namespace
}  // namespace qm
