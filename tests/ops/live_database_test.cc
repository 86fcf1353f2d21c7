// Live SQLite databases: what a backup takes while QuantMesh keeps writing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "core/chunk_list.h"
#include "core/page_fingerprints.h"
#include "store/ops/archiver.h"
#include "store/ops/restorer.h"
#include "store/ops/sqlite_source.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

class LiveDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/src";
    root_ = dir_.path() + "/repo";
    fs::create_directories(src_ + "/data");
    WriteStringToFile(src_ + "/config.yaml", "api_key: FAKE\n");
    ASSERT_TRUE(Repository::Init(Env::Default(), root_, RepoConfig{}).ok());
  }
  Result<BackupResult> DoBackup(bool dbs_only = true) {
    QM_ASSIGN_OR_RETURN(auto repo, Repository::Open(Env::Default(), root_, OpenMode::kWrite));
    BackupOptions opt;
    opt.source = src_;
    opt.dbs_only = dbs_only;
    opt.check_interval_s = check_interval_s_;
    return Backup(repo.get(), opt, nullptr);
  }
  int64_t check_interval_s_ = BackupOptions{}.check_interval_s;
  // Restores snapshot `id` into a fresh directory and returns it.
  std::string RestoreTo(const Hash256& id) {
    const std::string out = dir_.path() + "/restore-" + std::to_string(restores_++);
    auto repo = Repository::Open(Env::Default(), root_, OpenMode::kReadOnly);
    EXPECT_TRUE(repo.ok());
    if (!repo.ok()) return out;
    auto snap = (*repo)->FindSnapshot(id.Hex());
    EXPECT_TRUE(snap.ok());
    if (!snap.ok()) return out;
    auto r = Restore(repo->get(), *snap, RestoreOptions{out}, nullptr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return out;
  }

  TempDir dir_;
  std::string src_, root_;
  int restores_ = 0;
};

// A writer process moves money between 100 accounts (the total never
// changes) and inserts rows, as fast as it can, while 20 backups run back to
// back. Every snapshot must restore to a database that passes
// integrity_check and keeps the invariant.
// Parameters: WAL mode, page size, the writer's wal_autocheckpoint (pages).
class ConcurrentWriterTest : public LiveDatabaseTest,
                             public ::testing::WithParamInterface<std::tuple<bool, int, int>> {};

TEST_P(ConcurrentWriterTest, EverySnapshotTakenUnderWritesIsConsistent) {
  const auto [wal, page_size, checkpoint_pages] = GetParam();
  // Every size takes the split check (per-table checks on two connections
  // plus page accounting), in both journal modes, so it too runs against a
  // live writer.
  struct SplitAlways {
    uint64_t old = SqliteSource::SplitCheckMinPages();
    SplitAlways() { SqliteSource::SetSplitCheckMinPages(0); }
    ~SplitAlways() { SqliteSource::SetSplitCheckMinPages(old); }
  } split_always;
  int split_checks = 0;
  int direct_reads = 0;  // read from the files, not through the backup API
  int frame_reads = 0;   // WAL mode: with pages from -wal frames
  const std::string db_path = src_ + "/data/quantmesh.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(db_path.c_str(), &db));
    ExecSql(db, "PRAGMA page_size=" + std::to_string(page_size));
    ExecSql(db, std::string("PRAGMA journal_mode=") + (wal ? "WAL" : "DELETE"));
    ExecSql(db,
            "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
            "CREATE TABLE trades(id INTEGER PRIMARY KEY, account INTEGER, amount INTEGER, note TEXT);"
            "CREATE INDEX trades_account ON trades(account);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100) "
            "INSERT INTO accounts SELECT i, 1000 FROM n;");
    sqlite3_close(db);
  }
  const std::string script =
      "import sqlite3, random\n"
      "db = sqlite3.connect('" +
      db_path +
      "', timeout=30, isolation_level=None)\n"
      "db.execute('PRAGMA wal_autocheckpoint=" +
      std::to_string(checkpoint_pages) +
      "')\n"
      "r = random.Random(1)\n"
      "while True:\n"
      "    a, b, x = r.randint(1, 100), r.randint(1, 100), r.randint(1, 50)\n"
      "    db.execute('BEGIN IMMEDIATE')\n"
      "    db.execute('UPDATE accounts SET balance = balance - ? WHERE id = ?', (x, a))\n"
      "    db.execute('UPDATE accounts SET balance = balance + ? WHERE id = ?', (x, b))\n"
      "    db.executemany('INSERT INTO trades(account, amount, note) VALUES (?, ?, hex(randomblob(40)))',\n"
      "                   [(a, x)] * r.randint(1, 20))\n"
      "    db.execute('COMMIT')\n";
  WriteStringToFile(dir_.path() + "/writer.py", script);
  const pid_t writer = fork();
  if (writer == 0) {
    execlp("python3", "python3", (dir_.path() + "/writer.py").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(writer, 0);
  // A failed assertion returns early: the writer must not outlive the test
  // and write into a directory being removed.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reaper{writer};
  // Let it get going: its first commit, not a fixed time (a loaded machine
  // took over 2 s to start python and commit once).
  for (int waited_ms = 0; QuerySqlite(db_path, "SELECT count(*) FROM trades") == "0"; waited_ms += 50) {
    ASSERT_LT(waited_ms, 60000) << "the writer never committed";
    usleep(50 * 1000);
  }
  check_interval_s_ = 0;  // every backup checks, under the writer
  std::vector<Hash256> snaps;
  std::vector<uint64_t> trades_seen;
  for (int i = 0; i < 20; i++) {
    auto b = DoBackup();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_TRUE(b->errors.empty()) << b->errors[0].status.ToString();
    ASSERT_EQ(1u, b->databases.size());
    EXPECT_GE(b->databases[0].read_hold_ms, 0.0);
    EXPECT_EQ("ok", b->databases[0].quick_check);
    split_checks += b->databases[0].quick_check_split ? 1 : 0;
    direct_reads += b->databases[0].read_direct ? 1 : 0;
    frame_reads += b->databases[0].wal_frames_read > 0 ? 1 : 0;
    snaps.push_back(b->snapshot_id);
  }
  // The files (and the WAL's frames) were read by us under the writer, its
  // checkpoints and WAL restarts included (it checkpoints every 1000 or 8 pages).
  EXPECT_GT(direct_reads, 0);
  EXPECT_EQ(wal, frame_reads > 0);
  EXPECT_GT(split_checks, 0) << "the split check ran under the writer";
  kill(writer, SIGKILL);
  int status = 0;
  waitpid(writer, &status, 0);
  reaper.pid = 0;
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer died on its own: " << status;
  for (const Hash256& id : snaps) {
    const std::string out = RestoreTo(id);
    const std::string db = out + "/data/quantmesh.db";
    EXPECT_FALSE(fs::exists(db + "-wal")) << "a restored database stands alone";
    EXPECT_EQ("ok", QuerySqlite(db, "PRAGMA integrity_check")) << id.ShortHex();
    EXPECT_EQ("100000", QuerySqlite(db, "SELECT sum(balance) FROM accounts")) << id.ShortHex();
    trades_seen.push_back(std::stoull(QuerySqlite(db, "SELECT count(*) FROM trades")));
    fs::remove_all(out);
  }
  EXPECT_GT(trades_seen.back(), trades_seen.front()) << "the writer really was writing during the backups";
}

// SQLite's default checkpoint (every 1000 pages), and in WAL mode one every
// 8 pages: nearly every commit then checkpoints, and the WAL restarts under
// the copies all the time.
INSTANTIATE_TEST_SUITE_P(WalAndRollbackSmallAndLargePages, ConcurrentWriterTest,
                         ::testing::Values(std::make_tuple(false, 4096, 1000), std::make_tuple(false, 65536, 1000),
                                           std::make_tuple(true, 4096, 1000), std::make_tuple(true, 65536, 1000),
                                           std::make_tuple(true, 4096, 8)));

// All read transactions open at once; the databases are then copied
// smallest first, so the small ones (auth.db) release their locks at once
// instead of waiting behind the big one.
TEST_F(LiveDatabaseTest, DatabasesAreCopiedSmallestFirst) {
  MakeSqliteDatabase(src_ + "/data/quantmesh.db", 20000, 1);
  MakeSqliteDatabase(src_ + "/data/auth.db", 50, 2);
  MakeSqliteDatabase(src_ + "/logs.db", 2000, 3);
  struct Order : ProgressSink {
    std::vector<std::string> done;
    void FileDone(const std::string& path, uint64_t, bool) override { done.push_back(path); }
  } order;
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  BackupOptions opt;
  opt.source = src_;
  opt.dbs_only = true;
  auto b = Backup(repo->get(), opt, &order);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((std::vector<std::string>{"data/auth.db", "logs.db", "data/quantmesh.db"}), order.done);
}

TEST_F(LiveDatabaseTest, CommitsStillOnlyInTheWalAreInTheSnapshot) {
  const std::string path = src_ + "/logs.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  ExecSql(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
  ExecSql(db, "CREATE TABLE logs(id INTEGER PRIMARY KEY, msg TEXT)");
  for (int i = 0; i < 300; i++) ExecSql(db, "INSERT INTO logs(msg) VALUES ('line " + std::to_string(i) + "')");
  ASSERT_GT(fs::file_size(path + "-wal"), 0u);
  auto b = DoBackup();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const std::string out = RestoreTo(b->snapshot_id);
  EXPECT_EQ("300", QuerySqlite(out + "/logs.db", "SELECT count(*) FROM logs"));
  EXPECT_EQ("ok", QuerySqlite(out + "/logs.db", "PRAGMA integrity_check"));
  EXPECT_GT(fs::file_size(path + "-wal"), 0u) << "qm-snap never checkpoints the live database";
  sqlite3_close(db);
}

TEST_F(LiveDatabaseTest, ACommittedChangeIsNeverSkippedInEitherJournalMode) {
  for (bool wal : {false, true}) {
    SCOPED_TRACE(wal ? "WAL" : "rollback");
    const std::string path = src_ + "/data/auth.db";
    fs::remove(path);
    fs::remove(path + "-wal");
    fs::remove(path + "-shm");
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, std::string("PRAGMA journal_mode=") + (wal ? "WAL" : "DELETE"));
    ExecSql(db, "CREATE TABLE users(id INTEGER PRIMARY KEY, pw TEXT); INSERT INTO users VALUES (1, 'v0');");
    for (int i = 1; i <= 6; i++) {
      auto b = DoBackup();
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      const std::string out = RestoreTo(b->snapshot_id);
      EXPECT_EQ("v" + std::to_string(i - 1), QuerySqlite(out + "/data/auth.db", "SELECT pw FROM users WHERE id = 1"));
      // Same-size, in-place change right after the backup's stats.
      ExecSql(db, "UPDATE users SET pw = 'v" + std::to_string(i) + "' WHERE id = 1");
    }
    sqlite3_close(db);
  }
}

// The repository's Env with its clock moved forward, as the hours between
// hourly runs would move it.
class LaterEnv : public EnvWrapper {
 public:
  explicit LaterEnv(Env* target) : EnvWrapper(target) {}
  int64_t NowUnixNanos() override { return target()->NowUnixNanos() + later_ns; }
  int64_t later_ns = 0;
};

// quick_check runs on a database's first capture, on --force-read, on every
// run with an interval of 0, and once the last passing check is
// check_interval_s old. In between, a changed database is captured without
// it, recorded as not run with the time of the check it still relies on,
// and restores to a database that passes integrity_check. A capture that
// ran no check is taken again unread only while no check is due.
TEST_F(LiveDatabaseTest, QuickCheckRunsOnFirstCaptureForceReadAndOncePerInterval) {
  const std::string path = src_ + "/data/quantmesh.db";
  MakeSqliteDatabase(path, 2000, 1);
  LaterEnv env(Env::Default());
  int rows = 2000;
  // One committed row, then the file's times set back so that its stats
  // count as settled and an unchanged file can be proven so.
  auto change = [&] {
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, "INSERT INTO trades(v) VALUES ('one more')");
    sqlite3_close(db);
    rows++;
    fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::seconds(10));
  };
  Hash256 last_id;
  auto backup = [&](bool force_read, int64_t interval_s) -> DatabaseCapture {
    auto repo = Repository::Open(&env, root_, OpenMode::kWrite);
    EXPECT_TRUE(repo.ok());
    if (!repo.ok()) return {};
    BackupOptions opt;
    opt.source = src_;
    opt.dbs_only = true;
    opt.force_read = force_read;
    opt.check_interval_s = interval_s;
    auto b = Backup(repo->get(), opt, nullptr);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok()) return {};
    EXPECT_TRUE(b->errors.empty());
    EXPECT_EQ(1u, b->databases.size());
    last_id = b->snapshot_id;
    return b->databases.empty() ? DatabaseCapture{} : b->databases[0];
  };
  auto restored_rows = [&] {
    const std::string out = RestoreTo(last_id) + "/data/quantmesh.db";
    EXPECT_EQ("ok", QuerySqlite(out, "PRAGMA integrity_check"));
    return QuerySqlite(out, "SELECT count(*) FROM trades");
  };
  const int64_t day = 86400;
  fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::seconds(10));

  const DatabaseCapture first = backup(false, day);
  EXPECT_EQ("ok", first.quick_check) << "a first capture is checked";
  EXPECT_GT(first.last_check_ns, 0);

  change();
  const DatabaseCapture hourly = backup(false, day);
  EXPECT_FALSE(hourly.unchanged);
  EXPECT_EQ("", hourly.quick_check) << "within the interval: not run";
  EXPECT_EQ(first.last_check_ns, hourly.last_check_ns) << "it relies on the first capture's check";
  EXPECT_EQ(std::to_string(rows), restored_rows());

  const DatabaseCapture same = backup(false, day);
  EXPECT_TRUE(same.unchanged) << "unchanged, no check due: taken as the parent's capture";
  EXPECT_EQ("", same.quick_check);
  EXPECT_EQ(first.last_check_ns, same.last_check_ns);

  env.later_ns = (day + 3600) * int64_t{1000000000};
  const DatabaseCapture due = backup(false, day);
  EXPECT_FALSE(due.unchanged) << "its bytes were never checked and a check is due: read again";
  EXPECT_EQ("ok", due.quick_check);
  EXPECT_GE(due.last_check_ns, first.last_check_ns + day * int64_t{1000000000});

  change();
  const DatabaseCapture after = backup(false, day);
  EXPECT_EQ("", after.quick_check);
  EXPECT_EQ(due.last_check_ns, after.last_check_ns);
  EXPECT_EQ(std::to_string(rows), restored_rows());

  change();
  const DatabaseCapture daily = backup(true, day);
  EXPECT_EQ("ok", daily.quick_check) << "--force-read always checks";
  EXPECT_GT(daily.last_check_ns, after.last_check_ns);

  change();
  const DatabaseCapture every = backup(false, 0);
  EXPECT_EQ("ok", every.quick_check) << "an interval of 0 checks every run";
  EXPECT_GT(every.last_check_ns, daily.last_check_ns);
  EXPECT_EQ(std::to_string(rows), restored_rows());
}

TEST_F(LiveDatabaseTest, AnUntouchedDatabaseIsNotReadAgain) {
  MakeSqliteDatabase(src_ + "/data/webauthn.db", 2000, 3);
  // Its stats must be older than a second before the first run's to count as settled.
  const auto old = fs::last_write_time(src_ + "/data/webauthn.db") - std::chrono::seconds(10);
  fs::last_write_time(src_ + "/data/webauthn.db", old);
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  auto second = DoBackup();
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(1u, second->databases.size());
  EXPECT_TRUE(second->databases[0].unchanged);
  EXPECT_EQ(0u, second->record.totals.bytes_read);
  EXPECT_LT(second->databases[0].read_hold_ms, 1000.0);
}

// A WAL database closed cleanly has no -wal; the first backup's read-only
// connection creates an empty one, and SQLite run as root fchown()s the -wal
// (a new ctime) every time it opens it. Neither is a change: the next
// backups do not read the database again. A commit (frames in the -wal) is.
TEST_F(LiveDatabaseTest, AWalDatabaseIsNotReadAgainForItsEmptyWalOrTheWalsNewCtime) {
  const std::string path = src_ + "/data/webauthn.db";
  MakeSqliteDatabase(path, 2000, 3);
  {
    sqlite3* w = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &w));
    ExecSql(w, "PRAGMA journal_mode=WAL");
    sqlite3_close(w);
  }
  ASSERT_FALSE(fs::exists(path + "-wal")) << "closed cleanly";
  const auto old = fs::last_write_time(path) - std::chrono::seconds(10);
  fs::last_write_time(path, old);
  auto first = DoBackup();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(fs::exists(path + "-wal"));
  EXPECT_EQ(0u, fs::file_size(path + "-wal"));
  for (int i = 0; i < 2; i++) {
    SCOPED_TRACE(i == 0 ? "after the -wal appeared" : "after the -wal's ctime changed");
    if (i == 1) fs::permissions(path + "-wal", fs::status(path + "-wal").permissions());  // a new ctime, as fchown
    auto again = DoBackup();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ASSERT_EQ(1u, again->databases.size());
    EXPECT_TRUE(again->databases[0].unchanged);
    EXPECT_EQ(0u, again->record.totals.bytes_read);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  ExecSql(db, "PRAGMA wal_autocheckpoint=0; INSERT INTO trades(v) VALUES ('after')");
  ASSERT_GT(fs::file_size(path + "-wal"), 0u);
  auto changed = DoBackup();
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_FALSE(changed->databases[0].unchanged);
  const std::string out = RestoreTo(changed->snapshot_id);
  EXPECT_EQ("2001", QuerySqlite(out + "/data/webauthn.db", "SELECT count(*) FROM trades"));
  sqlite3_close(db);
}

// Snapshot metadata grows with the change, not with the database: after one
// row changes, the new snapshot's chunk list shares all but a few of its
// blocks with the parent's.
TEST_F(LiveDatabaseTest, OneChangedRowRewritesOnlyAFewChunkListBlocks) {
  const std::string path = src_ + "/data/quantmesh.db";
  MakeSqliteDatabase(path, 200000, 6);
  auto first = DoBackup();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, "UPDATE trades SET v = 'changed' WHERE id = 100000");
    sqlite3_close(db);
  }
  auto second = DoBackup();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  auto blocks_of = [&](const SnapshotRecord& rec) {
    auto root = (*repo)->LoadTree(rec.root_tree);
    EXPECT_TRUE(root.ok()) << root.status().ToString();
    for (const Node& n : root->nodes) {
      if (n.name != "data") continue;
      auto data = (*repo)->LoadTree(n.subtree);
      EXPECT_TRUE(data.ok()) << data.status().ToString();
      for (const Node& f : data->nodes) {
        if (f.name != "quantmesh.db") continue;
        // The blocks of refs, under the node's index blocks.
        EXPECT_TRUE(f.list_indexed);
        std::vector<ChunkListLeaf> leaves;
        EXPECT_TRUE((*repo)->LoadChunkListLeaves(f, 0, f.list_blocks.size(), &leaves).ok());
        std::vector<Hash256> ids;
        for (const ChunkListLeaf& l : leaves) ids.push_back(l.id);
        return std::make_pair(ids, f.chunks.size());
      }
    }
    return std::make_pair(std::vector<Hash256>{}, size_t{0});
  };
  const auto [a, chunks_a] = blocks_of(first->record);
  const auto [b, chunks_b] = blocks_of(second->record);
  ASSERT_GT(chunks_a, kChunkListInlineMax) << "the database must be big enough to need blocks";
  ASSERT_GE(a.size(), 8u);
  const std::set<Hash256> old_blocks(a.begin(), a.end());
  size_t fresh = 0;
  for (const Hash256& h : b) fresh += old_blocks.count(h) == 0;
  EXPECT_GE(fresh, 1u) << "the changed row must show up in some block";
  EXPECT_LE(fresh, 3u) << "of " << b.size() << " blocks";
  EXPECT_EQ(chunks_b, chunks_a);
}

// Unchanged pages are recognised by their fingerprint and not hashed or
// stored again; the changed ones are, and the result restores exactly. A
// cache record that does not describe the parent capture is ignored.
TEST_F(LiveDatabaseTest, UnchangedPagesAreReusedByFingerprintAndChangedOnesAreStored) {
  const std::string path = src_ + "/data/quantmesh.db";
  MakeSqliteDatabase(path, 50000, 8);
  auto first = DoBackup();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(1u, first->databases.size());
  EXPECT_EQ(0u, first->databases[0].chunks_unchanged) << "no parent yet";
  const uint64_t pages = first->databases[0].page_count;
  for (int round = 0; round < 3; round++) {
    SCOPED_TRACE(round);
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, "UPDATE trades SET v = 'round " + std::to_string(round) +
                    "' WHERE id = " + std::to_string(1000 + round * 20000));
    sqlite3_close(db);
    auto b = DoBackup();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_EQ(1u, b->databases.size());
    const auto& d = b->databases[0];
    EXPECT_FALSE(d.unchanged);
    EXPECT_GE(d.chunks_unchanged + 4, pages) << "only the changed pages are hashed";
    EXPECT_LT(d.chunks_unchanged, pages) << "the changed pages are";
    const std::string out = RestoreTo(b->snapshot_id);
    EXPECT_EQ(ReadFileToString(path), ReadFileToString(out + "/data/quantmesh.db"));
  }
  // Poison every cache record: the next backup must hash everything and still be exact.
  {
    auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
    ASSERT_TRUE(repo.ok());
    PageFingerprints junk;
    junk.page_size = 4096;
    junk.content_id = Sha256(AsBytes("not the parent"));
    junk.chunks.assign(pages, 0);
    const std::string key = std::string("page-fingerprints") + '\0' + src_ + '\0' + "data/quantmesh.db";
    ASSERT_TRUE((*repo)->PutCacheRecord(Sha256(AsBytes(key)), EncodePageFingerprints(junk)).ok());
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, "UPDATE trades SET v = 'after junk' WHERE id = 7");
    sqlite3_close(db);
  }
  auto b = DoBackup();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(0u, b->databases[0].chunks_unchanged) << "a record for another capture is not trusted";
  const std::string out = RestoreTo(b->snapshot_id);
  EXPECT_EQ(ReadFileToString(path), ReadFileToString(out + "/data/quantmesh.db"));

  // The record carries the parent's chunk refs, so the parent's list is not
  // read back from the packs. A record whose refs are not exactly the
  // parent's list (one id changed, checksum made to match), or a torn file,
  // is not trusted either.
  const std::string key = std::string("page-fingerprints") + '\0' + src_ + '\0' + "data/quantmesh.db";
  const std::string cache_file = root_ + "/cache/" + Sha256(AsBytes(key)).Hex();
  for (int damage = 0; damage < 2; damage++) {
    SCOPED_TRACE(damage == 0 ? "one ref changed" : "torn file");
    std::string bytes = ReadFileToString(cache_file);
    auto fp = DecodePageFingerprints(AsBytes(bytes));
    ASSERT_TRUE(fp.ok()) << fp.status().ToString() << ": the last backup wrote a valid record";
    ASSERT_EQ(fp->chunks.size(), fp->refs.size());
    if (damage == 0) {
      fp->refs[fp->refs.size() / 2].id = Sha256(AsBytes("another chunk"));
      const Bytes enc = EncodePageFingerprints(*fp);
      bytes.assign(enc.begin(), enc.end());
    } else {
      bytes.resize(bytes.size() * 2 / 3);
    }
    WriteStringToFile(cache_file, bytes);
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    ExecSql(db, "UPDATE trades SET v = 'damage " + std::to_string(damage) + "' WHERE id = 9");
    sqlite3_close(db);
    auto d = DoBackup();
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(0u, d->databases[0].chunks_unchanged);
    const std::string restored = RestoreTo(d->snapshot_id);
    EXPECT_EQ(ReadFileToString(path), ReadFileToString(restored + "/data/quantmesh.db"));
  }
}

// --force-read (the guide's daily full) hashes every page again.
TEST_F(LiveDatabaseTest, ForceReadBypassesFingerprints) {
  const std::string path = src_ + "/data/quantmesh.db";
  MakeSqliteDatabase(path, 20000, 9);
  ASSERT_TRUE(DoBackup().ok());
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  BackupOptions opt;
  opt.source = src_;
  opt.dbs_only = true;
  opt.force_read = true;
  auto b = Backup(repo->get(), opt, nullptr);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(1u, b->databases.size());
  EXPECT_FALSE(b->databases[0].unchanged);
  EXPECT_EQ(0u, b->databases[0].chunks_unchanged);
}

TEST_F(LiveDatabaseTest, CorruptDatabasesAreClearErrorsAndTheRestIsStillTaken) {
  WriteStringToFile(src_ + "/data/quantmesh.db", "this is not a database, just text that got here\n");
  MakeSqliteDatabase(src_ + "/data/auth.db", 3000, 4);
  std::string good = ReadFileToString(src_ + "/data/auth.db");
  WriteStringToFile(src_ + "/logs.db", good.substr(0, good.size() / 2));  // truncated
  MakeSqliteDatabase(src_ + "/data/webauthn.db", 100, 5);
  auto b = DoBackup(/*dbs_only=*/false);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(2u, b->errors.size());
  std::set<std::string> bad;
  for (const auto& e : b->errors) {
    bad.insert(e.path);
    EXPECT_NE(std::string::npos, e.status.message().find(src_ + "/" + e.path)) << e.status.ToString();
  }
  EXPECT_EQ((std::set<std::string>{"data/quantmesh.db", "logs.db"}), bad);
  EXPECT_NE(0u, b->record.flags & kSnapshotPartial);
  const std::string out = RestoreTo(b->snapshot_id);
  EXPECT_EQ(good, ReadFileToString(out + "/data/auth.db"));
  EXPECT_EQ("ok", QuerySqlite(out + "/data/webauthn.db", "PRAGMA integrity_check"));
  EXPECT_TRUE(fs::exists(out + "/config.yaml"));
  EXPECT_FALSE(fs::exists(out + "/logs.db"));
}

}  // namespace
}  // namespace qm
