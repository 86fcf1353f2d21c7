// The qm-snap binary: the command contract, exit codes and messages an
// operator sees (run as a subprocess, as cron would).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "tests/support/test_util.h"

namespace qm {
namespace {

using Out = ShellResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/src";
    repo_ = dir_.path() + "/repo";
    std::filesystem::create_directories(src_ + "/data");
    WriteStringToFile(src_ + "/config.yaml", "exchange:\n  api_key: FAKE\n");
    MakeSqliteDatabase(src_ + "/data/quantmesh.db", 5000, 1);
  }
  TempDir dir_;
  std::string src_, repo_;
};

TEST_F(CliTest, VersionAndHelpForEveryCommand) {
  Out v = Qm("--version");
  EXPECT_EQ(0, v.code);
  EXPECT_NE(std::string::npos, v.out.find("qm-snap "));
  for (const char* cmd : {"init", "backup", "snapshots", "restore", "check"}) {
    Out h = Qm(std::string(cmd) + " --help");
    EXPECT_EQ(0, h.code) << cmd;
    EXPECT_NE(std::string::npos, h.out.find("Usage")) << cmd;
    Out h2 = Qm(std::string("help ") + cmd);
    EXPECT_EQ(0, h2.code) << cmd;
    EXPECT_EQ(h.out, h2.out) << "`help " << cmd << "` and `" << cmd << " --help` agree";
  }
  EXPECT_EQ(2, Qm("help nosuchcommand").code);
}

TEST_F(CliTest, InitBackupSnapshotsRestoreCheckRoundTrip) {
  ASSERT_EQ(0, Qm("init --repo " + repo_).code);
  Out b = Qm("backup --repo " + repo_ + " --source " + src_ + " --tag daily --time 20250129_143022 --json");
  ASSERT_EQ(0, b.code) << b.err;
  for (const char* key : {"\"snapshot_id\":", "\"time\":", "\"files\":2",
                          "\"bytes_read\":", "\"bytes_added\":", "\"chunks_new\":", "\"duration_s\":"}) {
    EXPECT_NE(std::string::npos, b.out.find(key)) << key << " missing from " << b.out;
  }
  // Missing guide items are warnings on stderr, not failures.
  EXPECT_NE(std::string::npos, b.err.find("warning")) << b.err;

  Out s = Qm("snapshots --json", "QM_SNAP_REPO=" + repo_);
  ASSERT_EQ(0, s.code) << s.err;
  EXPECT_NE(std::string::npos, s.out.find("\"tags\":[\"daily\"]")) << s.out;
  Out text = Qm("snapshots --repo " + repo_);
  EXPECT_NE(std::string::npos, text.out.find("1 snapshot(s)")) << text.out;

  Out r = Qm("restore latest --repo " + repo_ + " --target " + dir_.path() + "/out");
  ASSERT_EQ(0, r.code) << r.err;
  EXPECT_EQ(ReadFileToString(src_ + "/data/quantmesh.db"), ReadFileToString(dir_.path() + "/out/data/quantmesh.db"));
  Out c = Qm("check --read-data --repo " + repo_);
  EXPECT_EQ(0, c.code) << c.err;
  EXPECT_NE(std::string::npos, c.out.find("no errors were found"));
}

// The level is a property of the repository: written by init, used by every
// backup into it. Level 3 by default; out of range is refused before anything
// is created.
TEST_F(CliTest, InitRecordsTheCompressionLevelAndBackupsUseIt) {
  ASSERT_EQ(0, Qm("init --repo " + repo_).code);
  EXPECT_NE(std::string::npos, ReadFileToString(repo_ + "/config").find("\nzstd_level = 3\n"));
  auto added = [&](int level) -> uint64_t {
    const std::string repo = dir_.path() + "/repo-" + std::to_string(level);
    EXPECT_EQ(0, Qm("init --compression-level " + std::to_string(level) + " --repo " + repo).code);
    EXPECT_NE(std::string::npos,
              ReadFileToString(repo + "/config").find("\nzstd_level = " + std::to_string(level) + "\n"));
    Out b = Qm("backup --json --repo " + repo + " --source " + src_);
    EXPECT_EQ(0, b.code) << b.err;
    const size_t at = b.out.find("\"bytes_added\":");
    EXPECT_NE(std::string::npos, at) << b.out;
    return at == std::string::npos ? 0 : std::stoull(b.out.substr(at + 14));
  };
  const uint64_t fast = added(1), strong = added(19);
  EXPECT_GT(fast, 0u);
  EXPECT_LT(strong, fast) << "level 19 stores the same data in fewer bytes than level 1";
  Out bad = Qm("init --compression-level 20 --repo " + dir_.path() + "/repo-20");
  EXPECT_NE(0, bad.code);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/repo-20"));
}

// After a checked first backup, an hourly run within the check interval
// skips quick_check and says so, with when the check it relies on passed;
// `ls --long` shows the same; --check-interval 0 checks every run; a bad
// interval is a usage error naming the option.
TEST_F(CliTest, BackupSaysWhenQuickCheckWasNotRunAndWhenItLastPassed) {
  ASSERT_EQ(0, Qm("init --repo " + repo_).code);
  const std::string run = "backup --json --dbs-only --repo " + repo_ + " --source " + src_;
  Out first = Qm(run);
  ASSERT_EQ(0, first.code) << first.err;
  EXPECT_NE(std::string::npos, first.out.find("\"quick_check\":\"ok\",\"last_check\":\"20")) << first.out;
  MakeSqliteDatabase(src_ + "/data/quantmesh.db", 10, 2);  // ten more rows
  Out hourly = Qm(run);
  ASSERT_EQ(0, hourly.code) << hourly.err;
  EXPECT_NE(std::string::npos, hourly.out.find("\"quick_check\":\"not run\",\"last_check\":\"20")) << hourly.out;
  Out ls = Qm("ls latest data --long --repo " + repo_);
  ASSERT_EQ(0, ls.code) << ls.err;
  EXPECT_NE(std::string::npos, ls.out.find("quick_check not run, last passed 20")) << ls.out;
  MakeSqliteDatabase(src_ + "/data/quantmesh.db", 10, 3);
  Out every = Qm(run + " --check-interval 0");
  ASSERT_EQ(0, every.code) << every.err;
  EXPECT_NE(std::string::npos, every.out.find("\"quick_check\":\"ok\"")) << every.out;
  Out bad = Qm(run + " --check-interval daily");
  EXPECT_EQ(2, bad.code);
  EXPECT_NE(std::string::npos, bad.err.find("--check-interval")) << bad.err;
}

// What skipping quick_check between checks gives up, and what catches it: a
// database damaged after its last check goes into an hourly snapshot without
// complaint; restore --verify of that snapshot refuses it in one sentence
// (the checked snapshot before it passes); the next check, here the daily
// --force-read run, names the file and the run exits 3.
TEST_F(CliTest, DamageBetweenChecksIsRefusedByRestoreVerifyAndNamedByTheNextCheck) {
  ASSERT_EQ(0, Qm("init --repo " + repo_).code);
  const std::string run = "backup --json --dbs-only --repo " + repo_ + " --source " + src_;
  auto short_id = [](const std::string& json) {
    const size_t at = json.find("\"short_id\":\"");
    return at == std::string::npos ? std::string("none") : json.substr(at + 12, 8);
  };
  Out first = Qm(run);
  ASSERT_EQ(0, first.code) << first.err;
  // The last page is a leaf of the table: an invalid page type there is
  // damage only a check that walks the b-tree sees.
  const std::string db = src_ + "/data/quantmesh.db";
  std::string bytes = ReadFileToString(db);
  ASSERT_EQ(0u, bytes.size() % 4096);
  ASSERT_EQ('\x0d', bytes[bytes.size() - 4096]) << "a table leaf page";
  bytes[bytes.size() - 4096] = '\x01';
  WriteStringToFile(db, bytes);
  Out hourly = Qm(run);
  ASSERT_EQ(0, hourly.code) << hourly.err;
  EXPECT_NE(std::string::npos, hourly.out.find("\"quick_check\":\"not run\"")) << hourly.out;

  Out bad = Qm("restore " + short_id(hourly.out) + " --verify --repo " + repo_ + " --target " + dir_.path() + "/r1");
  EXPECT_EQ(1, bad.code) << bad.out;
  EXPECT_NE(std::string::npos, bad.out.find("integrity_check data/quantmesh.db: ")) << bad.out;
  EXPECT_EQ(std::string::npos, bad.out.find("integrity_check data/quantmesh.db: ok")) << bad.out;
  EXPECT_NE(std::string::npos, bad.err.find("a restored database fails integrity_check")) << bad.err;
  const size_t error_line = bad.err.find("qm-snap: error: ");
  EXPECT_EQ(std::string::npos, bad.err.find("qm-snap: error: ", error_line + 1)) << "one error: " << bad.err;
  EXPECT_EQ(bad.err.size() - 1, bad.err.find('\n', error_line)) << "on one line, the last: " << bad.err;
  Out good = Qm("restore " + short_id(first.out) + " --verify --repo " + repo_ + " --target " + dir_.path() + "/r2");
  EXPECT_EQ(0, good.code) << good.err;
  EXPECT_NE(std::string::npos, good.out.find("integrity_check data/quantmesh.db: ok")) << good.out;

  Out daily = Qm(run + " --force-read");
  EXPECT_EQ(3, daily.code) << daily.err;
  EXPECT_NE(std::string::npos, daily.err.find("data/quantmesh.db")) << daily.err;
  EXPECT_NE(std::string::npos, daily.err.find("quick_check")) << daily.err;
}

TEST_F(CliTest, BackupToAMissingRepositorySaysHowToCreateIt) {
  Out b = Qm("backup --repo " + repo_ + " --source " + src_);
  EXPECT_EQ(10, b.code);
  EXPECT_NE(std::string::npos, b.err.find("qm-snap init")) << b.err;
  EXPECT_EQ(1u, std::count(b.err.begin(), b.err.end(), '\n')) << "one sentence: " << b.err;
}

TEST_F(CliTest, DefaultRepositoryIsBackupsStoreInTheWorkingDirectory) {
  ASSERT_EQ(0, Qm("init", "cd " + dir_.path() + " &&").code);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/backups/store/config"));
}

TEST_F(CliTest, UnknownSnapshotAndBadTimeAreClearErrors) {
  ASSERT_EQ(0, Qm("init --repo " + repo_).code);
  Out r = Qm("restore latest --repo " + repo_ + " --target " + dir_.path() + "/out");
  EXPECT_EQ(1, r.code);
  EXPECT_NE(std::string::npos, r.err.find("no snapshots")) << r.err;
  Out t = Qm("backup --repo " + repo_ + " --source " + src_ + " --time yesterday");
  EXPECT_EQ(2, t.code);
  EXPECT_NE(std::string::npos, t.err.find("--time")) << t.err;
  Out m = Qm("backup --repo " + repo_ + " --source " + dir_.path() + "/missing");
  EXPECT_EQ(1, m.code);
  EXPECT_NE(std::string::npos, m.err.find("does not exist")) << m.err;
}

TEST_F(CliTest, CheckExitsNonZeroAndNamesTheSnapshotWhenAPackIsDamaged) {
  ASSERT_EQ(0, Qm("init --repo " + repo_).code);
  Out b = Qm("backup --repo " + repo_ + " --source " + src_ + " --json");
  ASSERT_EQ(0, b.code);
  const std::string id = b.out.substr(b.out.find("\"short_id\":\"") + 12, 8);
  // Flip one byte in the middle of the largest pack (the data pack).
  std::string biggest;
  uintmax_t size = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo_ + "/packs"))
    if (e.is_regular_file() && e.file_size() > size) size = e.file_size(), biggest = e.path().string();
  std::string bytes = ReadFileToString(biggest);
  bytes[bytes.size() / 2] ^= 0x01;
  WriteStringToFile(biggest, bytes);
  Out c = Qm("check --read-data --repo " + repo_);
  EXPECT_EQ(1, c.code);
  EXPECT_NE(std::string::npos, c.err.find(id)) << c.err;
}

}  // namespace
}  // namespace qm
