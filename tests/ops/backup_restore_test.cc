// End to end through the library: a generated QuantMesh data directory is
// backed up, restored and compared; incrementals, selection rules and check.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/time_format.h"
#include "store/ops/archiver.h"
#include "store/ops/checker.h"
#include "store/ops/restorer.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

// The generator's fixed "now": snapshots are taken at this time so the
// "logs of the last 7 days" rule is deterministic.
constexpr const char* kNow = "2025-01-29T14:00:00";

class Collect : public ProgressSink {
 public:
  void Warning(const std::string& m) override { warnings.push_back(m); }
  void ItemError(const std::string& p, const Status& s) override { errors.emplace_back(p, s); }
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, Status>> errors;
};

int Shell(const std::string& cmd) {
  return std::system(cmd.c_str());
}

std::string IntegrityCheck(const std::string& db) {
  sqlite3* h = nullptr;
  std::string result;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    result = "cannot open";
  } else {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    } else {
      result = sqlite3_errmsg(h);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return result;
}

class BackupRestoreTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete generated_;
    generated_ = nullptr;
  }
  void SetUp() override {
    // Generated once per suite, but in SetUp so a broken generator fails
    // every test instead of skipping them.
    if (generated_ == nullptr) {
      generated_ = new TempDir();
      ASSERT_EQ(0, Shell("python3 " QMSNAP_SOURCE_DIR "/tools/qm_workload.py generate " + generated_->path() +
                         "/src --size 6M --seed 7 > /dev/null"));
    }
    ASSERT_TRUE(fs::exists(generated_->path() + "/src/data/quantmesh.db")) << "workload generator failed earlier";
    src_ = dir_.path() + "/src";
    // cp -a keeps the mtimes the 7-day log rule depends on.
    ASSERT_EQ(0, Shell("cp -a " + generated_->path() + "/src " + src_));
    root_ = dir_.path() + "/repo";
    ASSERT_TRUE(Repository::Init(env_, root_, RepoConfig{}).ok());
    now_ = *ParseTime(kNow);
  }
  // Options for a backup of src_ taken at `time`.
  BackupOptions At(int64_t time) const {
    BackupOptions opt;
    opt.source = src_;
    opt.time_unix = time;
    return opt;
  }
  Result<BackupResult> DoBackup(BackupOptions opt = {}, Collect* sink = nullptr) {
    if (opt.source.empty()) opt.source = src_;
    if (!opt.time_unix) opt.time_unix = now_;
    auto repo = Repository::Open(env_, root_, OpenMode::kWrite);
    if (!repo.ok()) return repo.status();
    return Backup(repo->get(), opt, sink);
  }
  std::string RestoreSnapshot(const Hash256& id) {
    const std::string target = dir_.path() + "/restore-" + id.ShortHex();
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    EXPECT_TRUE(repo.ok());
    auto snap = (*repo)->FindSnapshot(id.Hex());
    EXPECT_TRUE(snap.ok());
    auto r = Restore(repo->get(), *snap, RestoreOptions{target}, nullptr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return target;
  }
  // The pack holding config.yaml's first chunk in `b`'s snapshot ("" if none).
  std::string PackHoldingConfig(const BackupResult& b) {
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    if (!repo.ok()) return "";
    auto root_tree = (*repo)->LoadTree(b.record.root_tree);
    if (!root_tree.ok()) return "";
    for (const Node& n : root_tree->nodes) {
      if (n.name != "config.yaml" || n.chunks.empty()) continue;
      auto loc = (*repo)->index().value()->Lookup(n.chunks[0].id);
      if (loc.ok() && loc->has_value()) return (*repo)->layout().PackFile((*loc)->pack);
    }
    return "";
  }
  // After a pack was lost: `b` stored the lost data again, check finds its
  // snapshot whole, and config.yaml restores from it.
  void ExpectStoredAgainAndWhole(const BackupResult& b) {
    EXPECT_GT(b.record.totals.bytes_added, 0u) << "the lost data must be stored again";
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok());
    auto report = Check(repo->get(), CheckOptions{true}, nullptr);
    ASSERT_TRUE(report.ok());
    for (const auto& d : report->damaged_snapshots) EXPECT_NE(b.snapshot_id, d) << "the new snapshot is whole";
    const std::string out = RestoreSnapshot(b.snapshot_id);
    EXPECT_EQ(ReadFileToString(src_ + "/config.yaml"), ReadFileToString(out + "/config.yaml"));
  }
  // What the guide's default selection should take from src_.
  std::set<std::string> ExpectedDefaultSet() {
    std::set<std::string> want = {"data/quantmesh.db", "data/auth.db", "data/webauthn.db", "logs.db", "config.yaml"};
    for (const auto& e : fs::recursive_directory_iterator(src_ + "/config_backups"))
      if (e.is_regular_file()) want.insert(fs::relative(e.path(), src_).string());
    for (const auto& e : fs::directory_iterator(src_ + "/logs")) {
      struct stat st;
      stat(e.path().c_str(), &st);
      if (st.st_mtime >= now_ - 7 * 86400) want.insert(fs::relative(e.path(), src_).string());
    }
    return want;
  }

  static TempDir* generated_;
  TempDir dir_;
  Env* env_ = Env::Default();
  std::string src_, root_;
  int64_t now_ = 0;
};
TempDir* BackupRestoreTest::generated_ = nullptr;

TEST_F(BackupRestoreTest, RestoredFilesAreByteIdenticalWithModesAndMtimesAndDatabasesAreIntact) {
  chmod((src_ + "/config.yaml").c_str(), 0640);
  auto b = DoBackup();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->errors.empty());
  const std::string out = RestoreSnapshot(b->snapshot_id);

  auto restored = FilesUnder(out);
  std::set<std::string> names;
  for (const auto& [name, content] : restored) {
    names.insert(name);
    EXPECT_EQ(ReadFileToString(src_ + "/" + name), content) << name << " differs";
    struct stat a, r;
    ASSERT_EQ(0, stat((src_ + "/" + name).c_str(), &a));
    ASSERT_EQ(0, stat((out + "/" + name).c_str(), &r));
    EXPECT_EQ(a.st_mode & 07777, r.st_mode & 07777) << name;
    EXPECT_EQ(a.st_mtim.tv_sec, r.st_mtim.tv_sec) << name;
    EXPECT_EQ(a.st_mtim.tv_nsec, r.st_mtim.tv_nsec) << name;
  }
  EXPECT_EQ(ExpectedDefaultSet(), names);
  for (const char* db : {"data/quantmesh.db", "data/auth.db", "data/webauthn.db", "logs.db"}) {
    EXPECT_EQ("ok", IntegrityCheck(out + "/" + db)) << db;
  }
  EXPECT_EQ(b->record.totals.files, names.size());
}

TEST_F(BackupRestoreTest, OldLogsAreLeftOutButRecentOnesAreTaken) {
  auto b = DoBackup();
  ASSERT_TRUE(b.ok());
  const std::string out = RestoreSnapshot(b->snapshot_id);
  size_t all_logs = 0, restored_logs = 0;
  for (const auto& e : fs::directory_iterator(src_ + "/logs")) (void)e, ++all_logs;
  for (const auto& e : fs::directory_iterator(out + "/logs")) (void)e, ++restored_logs;
  EXPECT_GT(restored_logs, 0u);
  EXPECT_LT(restored_logs, all_logs) << "the generator makes logs older than 7 days; they must be skipped";
}

TEST_F(BackupRestoreTest, SecondBackupOfUnchangedDataAddsNoBytesAndReadsNothing) {
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  EXPECT_GT(first->record.totals.bytes_added, 1000000u);
  auto second = DoBackup();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(0u, second->record.totals.bytes_added);
  EXPECT_EQ(0u, second->record.totals.chunks_new);
  EXPECT_EQ(0u, second->record.totals.bytes_read) << "unchanged files are proven unchanged by the parent";
  EXPECT_EQ(first->snapshot_id, *second->record.parent);
  // A forced re-read adds no data: every chunk deduplicates, including the
  // databases' page 1. Only manifests differ (each database's capture
  // record carries this run's read-hold time), so a little is added.
  BackupOptions force;
  force.force_read = true;
  auto third = DoBackup(force);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(first->record.totals.bytes_logical, third->record.totals.bytes_read);
  EXPECT_EQ(0u, third->record.totals.chunks_new);
  EXPECT_LT(third->record.totals.bytes_added, first->record.totals.bytes_added / 50);
}

// At this size one simulated hour rewrites pages all over the small test
// database, so with 64 KiB chunks nearly every database chunk is new; what
// #2 promises is that unchanged files are neither re-read nor re-stored.
// (Page-aware chunking, issue #3, bounds the bytes added per hour.)
TEST_F(BackupRestoreTest, AfterAnHourOfTradingOnlyChangedFilesAreReadAndTheSnapshotRestoresExactly) {
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  std::map<std::string, std::string> before = FilesUnder(src_);
  ASSERT_EQ(0, Shell("python3 " QMSNAP_SOURCE_DIR "/tools/qm_workload.py mutate " + src_ + " --seed 3 > /dev/null"));
  uint64_t changed_bytes = 0;
  size_t unchanged_taken = 0;
  for (const std::string& rel : ExpectedDefaultSet()) {
    const std::string now = ReadFileToString(src_ + "/" + rel);
    auto it = before.find(rel);
    if (it == before.end() || it->second != now) {
      changed_bytes += now.size();
    } else {
      unchanged_taken++;
    }
  }
  ASSERT_GT(unchanged_taken, 5u) << "auth.db, webauthn.db, config and older logs stay the same";
  auto second = DoBackup();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(changed_bytes, second->record.totals.bytes_read) << "exactly the changed files are read";
  EXPECT_GT(second->record.totals.bytes_added, 0u);
  EXPECT_LT(second->record.totals.chunks_new, second->record.totals.chunks_total);
  const std::string out = RestoreSnapshot(second->snapshot_id);
  EXPECT_EQ(ExpectedDefaultSet().size(), FilesUnder(out).size());
  for (const auto& [name, content] : FilesUnder(out)) EXPECT_EQ(ReadFileToString(src_ + "/" + name), content) << name;
  EXPECT_EQ("ok", IntegrityCheck(out + "/data/quantmesh.db"));
  EXPECT_EQ("ok", IntegrityCheck(out + "/logs.db"));
}

TEST_F(BackupRestoreTest, DbsOnlyTakesTheFourDatabasesAlone) {
  BackupOptions opt;
  opt.dbs_only = true;
  auto b = DoBackup(opt);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->record.flags & kSnapshotDbsOnly);
  std::set<std::string> names;
  for (const auto& [name, c] : FilesUnder(RestoreSnapshot(b->snapshot_id))) names.insert(name);
  EXPECT_EQ((std::set<std::string>{"data/quantmesh.db", "data/auth.db", "data/webauthn.db", "logs.db"}), names);
}

TEST_F(BackupRestoreTest, AFullRunAfterHourlyRunsComparesWithTheLastFullRun) {
  auto full = DoBackup();
  ASSERT_TRUE(full.ok());
  BackupOptions hourly;
  hourly.dbs_only = true;
  auto h = DoBackup(hourly);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(full->snapshot_id, *h->record.parent) << "nothing better yet: the full run has the databases";
  auto h2 = DoBackup(hourly);
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(h->snapshot_id, *h2->record.parent) << "hourly runs chain to the last hourly run";
  auto full2 = DoBackup();
  ASSERT_TRUE(full2.ok());
  EXPECT_EQ(full->snapshot_id, *full2->record.parent);
  EXPECT_EQ(0u, full2->record.totals.bytes_read) << "logs and configs are proven unchanged by the last full run";
}

// The guide's daily full after hourly --dbs-only runs: the databases the last
// hourly run captured (and that have settled since) are not read again.
TEST_F(BackupRestoreTest, AFullRunReusesDatabasesCapturedByTheLatestHourlyRun) {
  ASSERT_TRUE(DoBackup().ok());
  ASSERT_EQ(0, Shell("python3 " QMSNAP_SOURCE_DIR "/tools/qm_workload.py mutate " + src_ + " --seed 5 > /dev/null"));
  // The hour's commits are older than the settle window of the next run.
  for (const char* db : {"data/quantmesh.db", "data/auth.db", "data/webauthn.db", "logs.db"}) {
    const std::string p = src_ + "/" + db;
    fs::last_write_time(p, fs::last_write_time(p) - std::chrono::seconds(10));
  }
  BackupOptions hourly;
  hourly.dbs_only = true;
  hourly.time_unix = now_ + 3600;
  auto h = DoBackup(hourly);
  ASSERT_TRUE(h.ok());
  BackupOptions daily;
  daily.time_unix = now_ + 7200;
  auto full = DoBackup(daily);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(4u, full->databases.size());
  for (const auto& d : full->databases) EXPECT_TRUE(d.unchanged) << d.path << " was read again";
  const std::string out = RestoreSnapshot(full->snapshot_id);
  for (const char* db : {"data/quantmesh.db", "logs.db"})
    EXPECT_EQ(ReadFileToString(src_ + "/" + db), ReadFileToString(out + "/" + db)) << db;
}

// A pack lost from the store (deleted by hand, a bad disk) must never be
// referenced by a later snapshot: the next backup notices the parent's
// chunks are no longer all present and stores the data again.
TEST_F(BackupRestoreTest, ABackupAfterALostPackStoresTheDataAgain) {
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  const std::string lost = PackHoldingConfig(*first);
  ASSERT_FALSE(lost.empty());
  ASSERT_TRUE(fs::remove(lost));
  auto second = DoBackup();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ExpectStoredAgainAndWhole(*second);
}

// With nothing changed, the parent's trees come from the local cache and
// packs/ is stamped instead of asking the chunk index (opening RocksDB was
// the largest part of such a run); the unchanged databases are not even
// opened.
TEST_F(BackupRestoreTest, AnUnchangedBackupNeedsNeitherTheChunkIndexNorTheDatabases) {
  // An empty directory: its tree is never looked up for a file in it, yet
  // it must count as stored too.
  ASSERT_TRUE(fs::create_directory(src_ + "/config_backups/empty"));
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  for (int run = 0; run < 2; run++) {
    auto repo = Repository::Open(env_, root_, OpenMode::kWrite);
    ASSERT_TRUE(repo.ok());
    auto b = Backup(repo->get(), At(now_ + 1 + run), nullptr);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_FALSE((*repo)->index_opened()) << "run " << run;
    EXPECT_EQ(0u, b->record.totals.bytes_added);
    EXPECT_EQ(0u, b->record.totals.bytes_read);
    EXPECT_EQ(first->record.root_tree, b->record.root_tree);
    ASSERT_EQ(4u, b->databases.size());
    for (const auto& db : b->databases) {
      EXPECT_TRUE(db.unchanged) << db.path;
      EXPECT_EQ(0.0, db.read_hold_ms) << db.path << " was opened";
      EXPECT_EQ("ok", db.quick_check) << db.path;
    }
  }
  auto snaps = [&] {
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    return (*repo)->ListSnapshots().value();
  }();
  ASSERT_EQ(3u, snaps.size());
  const std::string out = RestoreSnapshot(snaps.back().id);
  for (const char* f : {"config.yaml", "data/quantmesh.db", "logs.db"})
    EXPECT_EQ(ReadFileToString(src_ + "/" + f), ReadFileToString(out + "/" + f)) << f;
}

// An unchanged directory's tree is taken from the parent as it is; a
// directory whose own metadata changed, with every file in it unchanged,
// must not be.
TEST_F(BackupRestoreTest, ADirectoryWhoseModeChangedGetsANewTree) {
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(0, chmod((src_ + "/config_backups").c_str(), 0700));
  auto repo = Repository::Open(env_, root_, OpenMode::kWrite);
  auto second = Backup(repo->get(), At(now_ + 1), nullptr);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(0u, second->record.totals.bytes_read);
  EXPECT_NE(first->record.root_tree, second->record.root_tree);
  repo->reset();
  const std::string out = RestoreSnapshot(second->snapshot_id);
  struct stat st;
  ASSERT_EQ(0, stat((out + "/config_backups").c_str(), &st));
  EXPECT_EQ(0700u, st.st_mode & 07777);
}

// The stamp of packs/ is what lets an unchanged run skip the index: a pack
// lost after such a run must still be noticed by the next one, and its data
// stored again.
TEST_F(BackupRestoreTest, APackLostAfterAnIndexFreeBackupIsNoticedAndItsDataStoredAgain) {
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  const std::string lost = PackHoldingConfig(*first);
  ASSERT_FALSE(lost.empty());
  {
    auto repo = Repository::Open(env_, root_, OpenMode::kWrite);
    auto second = Backup(repo->get(), At(now_ + 1), nullptr);
    ASSERT_TRUE(second.ok());
    ASSERT_FALSE((*repo)->index_opened()) << "the second run must be the index-free one";
  }
  ASSERT_TRUE(fs::remove(lost));
  auto third = DoBackup(At(now_ + 2));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  ExpectStoredAgainAndWhole(*third);
}

// The cache is only a shortcut: damaged cache files cost the index, never
// the snapshot.
TEST_F(BackupRestoreTest, DamagedCacheFilesOnlyCostTheIndex) {
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  int damaged = 0;
  for (const auto& e : fs::directory_iterator(root_ + "/cache")) {
    std::string bytes = ReadFileToString(e.path());
    ASSERT_FALSE(bytes.empty());
    bytes[bytes.size() / 2] ^= 0x01;
    WriteStringToFile(e.path(), bytes);
    damaged++;
  }
  ASSERT_GT(damaged, 0);
  auto repo = Repository::Open(env_, root_, OpenMode::kWrite);
  auto second = Backup(repo->get(), At(now_ + 1), nullptr);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE((*repo)->index_opened());
  EXPECT_EQ(0u, second->record.totals.bytes_added);
  EXPECT_EQ(first->record.root_tree, second->record.root_tree);
  repo->reset();
  const std::string out = RestoreSnapshot(second->snapshot_id);
  EXPECT_EQ(ReadFileToString(src_ + "/data/quantmesh.db"), ReadFileToString(out + "/data/quantmesh.db"));
}

TEST_F(BackupRestoreTest, AMissingOptionalItemIsAWarningNotAFailure) {
  fs::remove(src_ + "/data/webauthn.db");
  Collect sink;
  auto b = DoBackup({}, &sink);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->errors.empty());
  ASSERT_EQ(1u, sink.warnings.size());
  EXPECT_NE(std::string::npos, sink.warnings[0].find("data/webauthn.db"));
}

TEST_F(BackupRestoreTest, AMissingSourceDirectoryIsAClearError) {
  BackupOptions opt;
  opt.source = dir_.path() + "/no-such-dir";
  auto b = DoBackup(opt);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.status().IsNotFound());
  EXPECT_NE(std::string::npos, b.status().message().find("no-such-dir"));
}

TEST_F(BackupRestoreTest, ExtraPathsAreTakenAndExcludesAreLeftOut) {
  fs::create_directories(src_ + "/scripts");
  WriteStringToFile(src_ + "/scripts/backup.sh", "#!/bin/sh\necho hi\n");
  WriteStringToFile(src_ + "/scripts/notes.tmp", "scratch");
  BackupOptions opt;
  opt.extra_paths = {"scripts"};
  opt.excludes = {"*.tmp", "config_backups"};
  auto b = DoBackup(opt);
  ASSERT_TRUE(b.ok());
  auto files = FilesUnder(RestoreSnapshot(b->snapshot_id));
  EXPECT_EQ(1u, files.count("scripts/backup.sh"));
  EXPECT_EQ(0u, files.count("scripts/notes.tmp"));
  for (const auto& [name, c] : files) EXPECT_NE(0u, name.rfind("config_backups", 0)) << name;
}

TEST_F(BackupRestoreTest, AMissingExtraPathIsAnErrorAndTheSnapshotIsPartial) {
  BackupOptions opt;
  opt.extra_paths = {"not-there.txt"};
  auto b = DoBackup(opt);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(1u, b->errors.size());
  EXPECT_EQ("not-there.txt", b->errors[0].path);
  EXPECT_TRUE(b->record.flags & kSnapshotPartial);
}

TEST_F(BackupRestoreTest, PathsEscapingTheSourceAreRefused) {
  BackupOptions opt;
  opt.extra_paths = {"../etc/passwd"};
  auto b = DoBackup(opt);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(Code::kInvalidArgument, b.status().code());
}

TEST_F(BackupRestoreTest, RestoreRefusesANonEmptyTarget) {
  auto b = DoBackup();
  ASSERT_TRUE(b.ok());
  const std::string target = dir_.path() + "/busy";
  fs::create_directories(target);
  WriteStringToFile(target + "/precious", "keep me");
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  auto snap = (*repo)->FindSnapshot("latest");
  auto r = Restore(repo->get(), *snap, RestoreOptions{target}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ("keep me", ReadFileToString(target + "/precious"));
}

TEST_F(BackupRestoreTest, CheckIsCleanOnAHealthyRepository) {
  ASSERT_TRUE(DoBackup().ok());
  ASSERT_EQ(0, Shell("python3 " QMSNAP_SOURCE_DIR "/tools/qm_workload.py mutate " + src_ + " --seed 4 > /dev/null"));
  ASSERT_TRUE(DoBackup().ok());
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  auto report = Check(repo->get(), CheckOptions{true}, nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << (report->errors.empty() ? "" : report->errors[0]);
  EXPECT_EQ(2u, report->snapshots);
  EXPECT_GT(report->blobs_verified, 0u);
}

TEST_F(BackupRestoreTest, CheckReadDataFindsOneFlippedByteAndNamesTheAffectedSnapshot) {
  auto first = DoBackup();
  ASSERT_TRUE(first.ok());
  // A second snapshot that does not contain the damaged file.
  BackupOptions dbs;
  dbs.dbs_only = true;
  auto second = DoBackup(dbs);
  ASSERT_TRUE(second.ok());

  // Damage one chunk of config.yaml, which only the first snapshot holds.
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  auto root_tree = (*repo)->LoadTree(first->record.root_tree);
  ASSERT_TRUE(root_tree.ok());
  const Node* cfg = nullptr;
  for (const Node& n : root_tree->nodes)
    if (n.name == "config.yaml") cfg = &n;
  ASSERT_NE(nullptr, cfg);
  ASSERT_FALSE(cfg->chunks.empty());
  auto loc = (*repo)->index().value()->Lookup(cfg->chunks[0].id);
  ASSERT_TRUE(loc.ok() && loc->has_value());
  const std::string pack = (*repo)->layout().PackFile((*loc)->pack);
  repo->reset();
  std::string bytes = ReadFileToString(pack);
  bytes[(*loc)->offset + (*loc)->stored_len / 2] ^= 0x20;
  WriteStringToFile(pack, bytes);

  auto ro = Repository::Open(env_, root_, OpenMode::kReadOnly);
  auto structural = Check(ro->get(), CheckOptions{false}, nullptr);
  ASSERT_TRUE(structural.ok());
  auto full = Check(ro->get(), CheckOptions{true}, nullptr);
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->ok());
  ASSERT_EQ(1u, full->damaged_snapshots.size());
  EXPECT_EQ(first->snapshot_id, full->damaged_snapshots[0]);
  bool named = false;
  for (const auto& e : full->errors) named |= e.find(first->snapshot_id.ShortHex()) != std::string::npos;
  EXPECT_TRUE(named) << "an error names the damaged snapshot";
}

}  // namespace
}  // namespace qm
