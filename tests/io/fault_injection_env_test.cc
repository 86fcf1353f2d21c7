// FaultInjectionEnv: the test double the store's crash and failure tests rely
// on must itself fail exactly where asked and model durability faithfully.
#include "tests/support/fault_injection_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"

namespace qm {
namespace {

// One mutating operation of each kind in a fixed order (a failed open is
// retried once so the file operations still run). Returns the counter value
// of every operation that failed, i.e. which op numbers failed.
std::vector<uint64_t> RunOneOfEach(FaultInjectionEnv* env, const std::string& dir) {
  std::vector<uint64_t> failed;
  auto check = [&failed, env](const Status& s) {
    if (!s.ok()) failed.push_back(env->mutating_ops());
  };
  check(env->CreateDir(dir + "/d"));
  auto f = env->NewWritableFile(dir + "/f");
  check(f.status());
  if (!f.ok()) {
    f = env->NewWritableFile(dir + "/f");
    check(f.status());
  }
  if (f.ok()) {
    check((*f)->Append(AsBytes("data")));
    check((*f)->Sync());
    check((*f)->Close());
  }
  const Status renamed = env->RenameFile(dir + "/f", dir + "/g");
  check(renamed);
  check(env->SyncDir(dir));
  // A failed rename leaves the file under its old name.
  check(env->RemoveFile(dir + (renamed.ok() ? "/g" : "/f")));
  return failed;
}

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  bool Exists(const std::string& path) { return Env::Default()->Stat(path).ok(); }

  TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
};

TEST_F(FaultInjectionEnvTest, CountsEveryMutatingOperationAndNoReads) {
  EXPECT_TRUE(RunOneOfEach(&env_, dir_.path()).empty());
  EXPECT_EQ(8u, env_.mutating_ops());
  WriteStringToFile(Path("r"), "read me");
  ASSERT_TRUE(ReadFileToBytes(&env_, Path("r")).ok());
  ASSERT_TRUE(env_.NewRandomAccessFile(Path("r")).ok());
  ASSERT_TRUE(env_.Stat(Path("r")).ok());
  ASSERT_TRUE(env_.GetChildren(dir_.path()).ok());
  EXPECT_EQ(8u, env_.mutating_ops());
  env_.ResetCounter();
  EXPECT_EQ(0u, env_.mutating_ops());
}

TEST_F(FaultInjectionEnvTest, FailAtOpHitsExactlyOpN) {
  for (uint64_t n = 1; n <= 8; ++n) {
    SCOPED_TRACE("n=" + std::to_string(n));
    TempDir dir;
    FaultInjectionEnv env(Env::Default());
    env.FailAtOp(n);
    EXPECT_EQ(std::vector<uint64_t>{n}, RunOneOfEach(&env, dir.path()));
  }
}

TEST_F(FaultInjectionEnvTest, FailedOperationIsNotPerformedAndCarriesTheInjectedMessage) {
  env_.FailAtOp(1);
  auto f = env_.NewWritableFile(Path("f"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(Code::kIOError, f.status().code());
  EXPECT_NE(std::string::npos, f.status().message().find("injected EIO"));
  EXPECT_NE(std::string::npos, f.status().message().find(Path("f")));
  EXPECT_FALSE(Exists(Path("f")));
  EXPECT_TRUE(env_.injected());

  env_.FailAtOp(1, Code::kNoSpace);
  Status s = env_.CreateDir(Path("d"));
  EXPECT_EQ(Code::kNoSpace, s.code());
  EXPECT_NE(std::string::npos, s.message().find("injected ENOSPC"));
  EXPECT_FALSE(Exists(Path("d")));
  EXPECT_TRUE(env_.CreateDir(Path("d")).ok()) << "not sticky: later operations succeed";
}

TEST_F(FaultInjectionEnvTest, FailAtOpCountsFromTheCallOrFromResetCounter) {
  ASSERT_TRUE(env_.CreateDir(Path("a")).ok());
  env_.FailAtOp(2);
  EXPECT_TRUE(env_.CreateDir(Path("b")).ok());
  env_.ResetCounter();  // re-bases: op 2 after the reset fails
  EXPECT_TRUE(env_.CreateDir(Path("c")).ok());
  EXPECT_FALSE(env_.CreateDir(Path("d")).ok());
  EXPECT_TRUE(env_.CreateDir(Path("e")).ok());
}

TEST_F(FaultInjectionEnvTest, StickyFailureFailsEveryLaterMutatingOperation) {
  env_.SetSticky(true);
  env_.FailAtOp(3, Code::kNoSpace);
  std::vector<uint64_t> failed = RunOneOfEach(&env_, dir_.path());
  EXPECT_EQ((std::vector<uint64_t>{3, 4, 5, 6, 7, 8}), failed);
  Status s = env_.CreateDir(Path("later"));
  EXPECT_EQ(Code::kNoSpace, s.code());
  EXPECT_TRUE(env_.Stat(Path("d")).ok()) << "reads still work on a bad disk";
  env_.ClearFaults();
  EXPECT_TRUE(env_.CreateDir(Path("later")).ok());
}

TEST_F(FaultInjectionEnvTest, ShortWriteLeavesAHalfWrittenFileAndNoSpace) {
  const std::string data = RandomBytes(1001, 9);
  env_.SetShortWriteAtOp(2);
  auto f = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(f.ok());
  Status s = (*f)->Append(AsBytes(data));
  EXPECT_EQ(Code::kNoSpace, s.code());
  EXPECT_NE(std::string::npos, s.message().find("injected ENOSPC"));
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(data.substr(0, 500), ReadFileToString(Path("f")));
}

TEST_F(FaultInjectionEnvTest, ShortWriteAtANonAppendOperationDoesNothing) {
  env_.SetShortWriteAtOp(1);
  auto f = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Append(AsBytes("whole")).ok());
  EXPECT_TRUE((*f)->Close().ok());
  EXPECT_EQ("whole", ReadFileToString(Path("f")));
  EXPECT_FALSE(env_.injected());
}

TEST_F(FaultInjectionEnvTest, FailSyncsFailsEveryFsyncWhileSet) {
  auto f = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(f.ok());
  env_.FailSyncs(true);
  Status s = (*f)->Sync();
  EXPECT_EQ(Code::kIOError, s.code());
  EXPECT_NE(std::string::npos, s.message().find("injected fsync failure"));
  EXPECT_EQ(Code::kIOError, env_.SyncDir(dir_.path()).code());
  EXPECT_TRUE((*f)->Append(AsBytes("x")).ok()) << "only syncs fail";
  env_.FailSyncs(false);
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_TRUE(env_.SyncDir(dir_.path()).ok());
}

TEST_F(FaultInjectionEnvTest, FailReadsOfFailsOpeningMatchingPathsOnly) {
  WriteStringToFile(Path("packs/p1"), "pack");
  WriteStringToFile(Path("config"), "cfg");
  env_.FailReadsOf("/packs/");
  EXPECT_EQ(Code::kIOError, env_.NewSequentialFile(Path("packs/p1")).status().code());
  EXPECT_EQ(Code::kIOError, env_.NewRandomAccessFile(Path("packs/p1")).status().code());
  EXPECT_TRUE(env_.NewRandomAccessFile(Path("config")).ok());
  env_.FailReadsOf("");
  EXPECT_TRUE(env_.NewSequentialFile(Path("packs/p1")).ok());
}

// The heart of crash testing: after DropUnsyncedData only what the Env
// contract calls durable remains.
TEST_F(FaultInjectionEnvTest, DropUnsyncedDataKeepsOnlyWhatWasMadeDurable) {
  // "kept": synced, then more appended without sync; its name is synced.
  auto kept = env_.NewWritableFile(Path("kept"));
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE((*kept)->Append(AsBytes("durable")).ok());
  ASSERT_TRUE((*kept)->Sync().ok());
  ASSERT_TRUE((*kept)->Append(AsBytes(" tail")).ok());
  ASSERT_TRUE((*kept)->Close().ok());
  // "never_synced": name synced, data never.
  auto unsynced = env_.NewWritableFile(Path("never_synced"));
  ASSERT_TRUE(unsynced.ok());
  ASSERT_TRUE((*unsynced)->Append(AsBytes("lost")).ok());
  ASSERT_TRUE((*unsynced)->Close().ok());
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());

  // After the directory sync: a new file, fully synced, whose name is not.
  auto late = env_.NewWritableFile(Path("late"));
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE((*late)->Append(AsBytes("data")).ok());
  ASSERT_TRUE((*late)->Sync().ok());
  ASSERT_TRUE((*late)->Close().ok());
  // A synced temporary renamed into place without the directory sync.
  ASSERT_TRUE(WriteFileAtomic(Env::Default(), Path("record"), AsBytes("old record")).ok());
  auto tmp = env_.NewWritableFile(Path("record.tmp"));
  ASSERT_TRUE(tmp.ok());
  ASSERT_TRUE((*tmp)->Append(AsBytes("new record")).ok());
  ASSERT_TRUE((*tmp)->Sync().ok());
  ASSERT_TRUE((*tmp)->Close().ok());
  ASSERT_TRUE(env_.RenameFile(Path("record.tmp"), Path("record")).ok());
  // A new directory whose name was not synced, with a synced file in it.
  ASSERT_TRUE(env_.CreateDir(Path("sub")).ok());
  ASSERT_TRUE(WriteFileAtomic(&env_, Path("sub/f"), AsBytes("in sub")).ok());
  // A file that existed before this Env wrote anything is left alone.
  WriteStringToFile(Path("untouched"), "as it was");

  ASSERT_TRUE(env_.DropUnsyncedData().ok());

  EXPECT_EQ("durable", ReadFileToString(Path("kept")));
  EXPECT_TRUE(Exists(Path("never_synced")));
  EXPECT_EQ("", ReadFileToString(Path("never_synced")));
  EXPECT_FALSE(Exists(Path("late")));
  EXPECT_FALSE(Exists(Path("record"))) << "pessimistic: an unsynced rename loses the target name";
  EXPECT_FALSE(Exists(Path("record.tmp")));
  EXPECT_FALSE(Exists(Path("sub")));
  EXPECT_EQ("as it was", ReadFileToString(Path("untouched")));
}

TEST_F(FaultInjectionEnvTest, DropUnsyncedDataKeepsARenameWhoseDirectoryWasSynced) {
  ASSERT_TRUE(WriteFileAtomic(&env_, Path("record"), AsBytes("v1")).ok());
  ASSERT_TRUE(WriteFileAtomic(&env_, Path("record"), AsBytes("v2")).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ("v2", ReadFileToString(Path("record")));
  auto names = Env::Default()->GetChildren(dir_.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::vector<std::string>{"record"}, *names);
}

TEST_F(FaultInjectionEnvTest, FailedSyncsMakeNothingDurable) {
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());
  env_.FailSyncs(true);
  EXPECT_FALSE(WriteFileAtomic(&env_, Path("x"), AsBytes("data")).ok());
  auto f = env_.NewWritableFile(Path("y"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(AsBytes("data")).ok());
  EXPECT_FALSE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  env_.FailSyncs(false);
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());  // the name of y becomes durable, its data did not
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(Exists(Path("x")));
  EXPECT_EQ("", ReadFileToString(Path("y")));
}

TEST_F(FaultInjectionEnvTest, CountsCorrectlyUnderConcurrentUse) {
  constexpr int kThreads = 4;
  constexpr int kFilesPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kFilesPerThread; ++i) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(WriteFileAtomic(&env_, Path(name), AsBytes(name)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(uint64_t{kThreads} * kFilesPerThread * 6, env_.mutating_ops());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ("t3-24", ReadFileToString(Path("t3-24")));
}

}  // namespace
}  // namespace qm
