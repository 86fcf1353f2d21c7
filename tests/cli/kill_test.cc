// A qm-snap process killed with SIGKILL in the middle of a backup leaves a
// repository that `check` finds clean, whose earlier snapshots restore byte
// for byte, and that the next backup uses normally.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

int RunQm(const std::string& args) {
  int status = std::system((QMSNAP_BINARY " " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Starts `qm-snap backup`, kills it with SIGKILL after `delay`. Returns true
// if it was still running when killed.
bool BackupAndKill(const std::string& repo, const std::string& src, std::chrono::milliseconds delay) {
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(QMSNAP_BINARY, QMSNAP_BINARY, "backup", "--repo", repo.c_str(), "--source", src.c_str(), "--force-read",
          "--path", "bulk", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(delay);
  const bool killed = kill(pid, SIGKILL) == 0;
  int status = 0;
  waitpid(pid, &status, 0);
  return killed && WIFSIGNALED(status);
}

TEST(KillTest, SigkillDuringBackupLeavesTheRepositoryCleanAndUsable) {
  TempDir dir;
  const std::string src = dir.path() + "/src", repo = dir.path() + "/repo";
  fs::create_directories(src + "/data");
  fs::create_directories(src + "/bulk");
  WriteStringToFile(src + "/config.yaml", "api_key: FAKE\n");
  MakeSqliteDatabase(src + "/data/quantmesh.db", 100000, 1);
  ASSERT_EQ(0, RunQm("init --repo " + repo));
  ASSERT_EQ(0, RunQm("backup --repo " + repo + " --source " + src + " --tag first"));
  const std::string first_db = ReadFileToString(src + "/data/quantmesh.db");

  // Enough new data that a backup takes a while: half random, half text.
  for (int i = 0; i < 6; ++i) {
    std::string text;
    while (text.size() < (6u << 20))
      text += "2025-01-29 14:00:00 INFO trade filled BTCUSDT qty=" + std::to_string(i * 7919 + text.size()) + "\n";
    WriteStringToFile(src + "/bulk/random" + std::to_string(i), RandomBytes(6 << 20, 100 + i));
    WriteStringToFile(src + "/bulk/text" + std::to_string(i), text);
  }

  int killed_mid_run = 0;
  for (int round = 0; round < 8; ++round) {
    // New content every round so each run has real work to do.
    WriteStringToFile(src + "/bulk/round", RandomBytes(3 << 20, 1000 + round));
    if (BackupAndKill(repo, src, std::chrono::milliseconds(15 + round * 45))) ++killed_mid_run;
    EXPECT_EQ(0, RunQm("check --repo " + repo)) << "check after kill in round " << round;
  }
  EXPECT_GT(killed_mid_run, 0) << "no run was actually interrupted; the test proved nothing";

  // The first snapshot restores byte for byte.
  TempDir out;
  int status = std::system((QMSNAP_BINARY " snapshots --repo " + repo + " --json > " + out.path() + "/s.json").c_str());
  ASSERT_EQ(0, WEXITSTATUS(status));
  const std::string json = ReadFileToString(out.path() + "/s.json");
  const size_t at = json.find("\"id\":\"");
  ASSERT_NE(std::string::npos, at);
  const std::string first_id = json.substr(at + 6, 64);
  ASSERT_EQ(0, RunQm("restore " + first_id + " --repo " + repo + " --target " + out.path() + "/first"));
  EXPECT_EQ(first_db, ReadFileToString(out.path() + "/first/data/quantmesh.db"));

  // The next backup runs normally and everything verifies.
  ASSERT_EQ(0, RunQm("backup --repo " + repo + " --source " + src + " --path bulk"));
  ASSERT_EQ(0, RunQm("restore latest --repo " + repo + " --target " + out.path() + "/last"));
  EXPECT_EQ(ReadFileToString(src + "/bulk/round"), ReadFileToString(out.path() + "/last/bulk/round"));
  EXPECT_EQ(0, RunQm("check --read-data --repo " + repo));
}

}  // namespace
}  // namespace qm
