// qm-snap mount: the FUSE view lists the same tree as `ls`, a file read
// through it equals `cat`, a database opens in place with sqlite3, writes
// are refused, and SIGTERM unmounts cleanly.
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

bool Mounted(const std::string& mnt) {
  return ReadFileToString("/proc/mounts").find(" " + mnt + " fuse") != std::string::npos;
}

TEST(MountTest, TheMountShowsWhatLsAndCatShowAndUnmountsOnSigterm) {
  TempDir dir;
  const std::string src = dir.path() + "/src", repo = dir.path() + "/repo", mnt = dir.path() + "/mnt";
  fs::create_directories(src + "/data");
  fs::create_directories(mnt);
  WriteStringToFile(src + "/config.yaml", "api_key: FAKE\n");
  MakeSqliteDatabase(src + "/data/quantmesh.db", 20000, 1);
  ASSERT_EQ(0, Qm("init --repo " + repo).code);
  ASSERT_EQ(0, Qm("backup --repo " + repo + " --source " + src + " --time 20250129_100000 --tag daily").code);

  pid_t pid = fork();
  if (pid == 0) {
    freopen((dir.path() + "/mount.log").c_str(), "w", stdout);
    freopen((dir.path() + "/mount.err").c_str(), "w", stderr);
    setenv("TZ", "UTC", 1);
    execl(QMSNAP_BINARY, QMSNAP_BINARY, "mount", "--repo", repo.c_str(), mnt.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 100 && !Mounted(mnt); i++) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      const std::string err = ReadFileToString(dir.path() + "/mount.err");
      // Only a machine without FUSE may skip, and only with qm-snap's own sentence saying so.
      ASSERT_NE(err.find("FUSE"), std::string::npos) << "mount failed without naming FUSE: " << err;
      GTEST_SKIP() << "FUSE is unavailable on this machine: " << err;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(Mounted(mnt)) << ReadFileToString(dir.path() + "/mount.err");

  const std::string snap_dir = mnt + "/snapshots/" + fs::read_symlink(mnt + "/latest").filename().string();
  EXPECT_EQ(fs::read_symlink(mnt + "/latest").parent_path().string(), "snapshots");
  EXPECT_TRUE(fs::exists(mnt + "/by-tag/daily/" + fs::path(snap_dir).filename().string()));
  EXPECT_EQ(fs::path(snap_dir).filename().string().substr(0, 20), "2025-01-29T10:00:00_");

  // The same tree as `ls`.
  auto find = RunShell("cd " + snap_dir + " && find . -mindepth 1 | sed 's|^\\./||' | sort");
  auto ls = Qm("ls --repo " + repo + " latest | sed 's|/$||' | sort");
  ASSERT_EQ(0, find.code);
  EXPECT_EQ(find.out, ls.out);
  // The same bytes as `cat`, and a database SQLite opens in place.
  EXPECT_EQ(ReadFileToString(snap_dir + "/config.yaml"), Qm("cat --repo " + repo + " latest config.yaml").out);
  EXPECT_TRUE(ReadFileToString(snap_dir + "/data/quantmesh.db") == ReadFileToString(src + "/data/quantmesh.db"));
  auto sql = RunShell("sqlite3 'file:" + mnt + "/latest/data/quantmesh.db?immutable=1' 'SELECT count(*) FROM trades'");
  EXPECT_EQ(sql.out, "20000\n") << sql.err;
  // Read-only.
  auto write = RunShell("echo x > " + snap_dir + "/config.yaml");
  EXPECT_NE(0, write.code);

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFileToString(dir.path() + "/mount.err");
  EXPECT_FALSE(Mounted(mnt)) << "still mounted after SIGTERM";
  if (Mounted(mnt)) RunShell("fusermount3 -u " + mnt);
}

TEST(MountTest, AMissingMountPointIsAClearError) {
  TempDir dir;
  ASSERT_EQ(0, Qm("init --repo " + dir.path() + "/repo").code);
  auto r = Qm("mount --repo " + dir.path() + "/repo " + dir.path() + "/nope");
  EXPECT_NE(0, r.code);
  EXPECT_NE(r.err.find("must be an existing directory"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace qm
