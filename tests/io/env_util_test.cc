// env_util: whole-file reads, the atomic-replace protocol under every
// possible single failure, mkdir -p and path helpers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/io/env.h"
#include "tests/support/fault_injection_env.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

class EnvUtilTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::vector<std::string> Children() {
    auto names = Env::Default()->GetChildren(dir_.path());
    EXPECT_TRUE(names.ok());
    std::vector<std::string> out = names.ok() ? *names : std::vector<std::string>{};
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir dir_;
  Env* env_ = Env::Default();
};

TEST_F(EnvUtilTest, ReadFileToBytesReadsWholeFileAndEnforcesTheLimit) {
  const std::string data = RandomBytes(200000, 1);
  WriteStringToFile(Path("f"), data);
  auto bytes = ReadFileToBytes(env_, Path("f"));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(data, std::string(AsString(*bytes)));
  EXPECT_TRUE(ReadFileToBytes(env_, Path("f"), data.size()).ok());
  auto too_big = ReadFileToBytes(env_, Path("f"), data.size() - 1);
  EXPECT_EQ(Code::kInvalidArgument, too_big.status().code());
  EXPECT_TRUE(ReadFileToBytes(env_, Path("missing")).status().IsNotFound());
  WriteStringToFile(Path("empty"), "");
  EXPECT_TRUE(ReadFileToBytes(env_, Path("empty"))->empty());
}

TEST_F(EnvUtilTest, WriteFileAtomicReplacesContentAndLeavesNoTempFile) {
  ASSERT_TRUE(WriteFileAtomic(env_, Path("config"), AsBytes("first")).ok());
  ASSERT_TRUE(WriteFileAtomic(env_, Path("config"), AsBytes("second")).ok());
  EXPECT_EQ("second", ReadFileToString(Path("config")));
  EXPECT_EQ(std::vector<std::string>{"config"}, Children());
  struct stat st;
  ASSERT_EQ(0, stat(Path("config").c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
}

TEST_F(EnvUtilTest, FailingRenameLeavesOldContentAndNoTempFile) {
  ASSERT_TRUE(WriteFileAtomic(env_, Path("config"), AsBytes("old")).ok());
  FaultInjectionEnv fenv(env_);
  // NewWritableFile, Append, Sync, Close, then the rename is op 5.
  fenv.FailAtOp(5);
  Status s = WriteFileAtomic(&fenv, Path("config"), AsBytes("new"));
  EXPECT_EQ(Code::kIOError, s.code());
  EXPECT_NE(std::string::npos, s.message().find("rename")) << s.ToString();
  EXPECT_EQ("old", ReadFileToString(Path("config")));
  EXPECT_EQ(std::vector<std::string>{"config"}, Children());
}

// Fails each operation of WriteFileAtomic in turn: the file always holds
// either the complete old or the complete new content, never anything else.
TEST_F(EnvUtilTest, WriteFileAtomicNeverExposesPartialContentWhicheverOpFails) {
  FaultInjectionEnv fenv(env_);
  ASSERT_TRUE(WriteFileAtomic(&fenv, Path("config"), AsBytes("old")).ok());
  const uint64_t ops = fenv.mutating_ops();
  ASSERT_EQ(6u, ops);  // open, append, fsync, close, rename, fsync dir
  for (uint64_t n = 1; n <= ops; ++n) {
    for (bool sticky : {false, true}) {
      SCOPED_TRACE("failing op " + std::to_string(n) + (sticky ? " (sticky)" : ""));
      ASSERT_TRUE(WriteFileAtomic(env_, Path("config"), AsBytes("old")).ok());
      fenv.ClearFaults();
      fenv.SetSticky(sticky);
      fenv.FailAtOp(n);
      Status s = WriteFileAtomic(&fenv, Path("config"), AsBytes("new content"));
      EXPECT_FALSE(s.ok());
      const std::string content = ReadFileToString(Path("config"));
      EXPECT_EQ(n <= 5 ? "old" : "new content", content);
      if (!sticky) {
        EXPECT_EQ(std::vector<std::string>{"config"}, Children());
      }
      for (const std::string& name : Children()) {
        if (name != "config") {
          ASSERT_TRUE(env_->RemoveFile(Path(name)).ok());
        }
      }
    }
  }
}

// The cache-file replace: the same write-and-rename, with no fsync at all
// (syncs that would fail do not make it fail), and on any failure before the
// rename the old content stays and the temporary is gone.
TEST_F(EnvUtilTest, ReplaceFileUnsyncedNeverSyncsAndKeepsTheOldFileOnFailure) {
  FaultInjectionEnv fenv(env_);
  fenv.FailSyncs(true);
  ASSERT_TRUE(ReplaceFileUnsynced(&fenv, Path("tmp-1"), Path("cache"), AsBytes("old")).ok());
  EXPECT_EQ(4u, fenv.mutating_ops());  // open, append, close, rename
  ASSERT_TRUE(ReplaceFileUnsynced(&fenv, Path("tmp-1"), Path("cache"), AsBytes("new")).ok());
  EXPECT_EQ("new", ReadFileToString(Path("cache")));
  EXPECT_EQ(std::vector<std::string>{"cache"}, Children());
  struct stat st;
  ASSERT_EQ(0, stat(Path("cache").c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
  for (uint64_t n = 1; n <= 4; ++n) {
    SCOPED_TRACE("failing op " + std::to_string(n));
    fenv.ClearFaults();
    fenv.FailAtOp(n);
    EXPECT_FALSE(ReplaceFileUnsynced(&fenv, Path("tmp-1"), Path("cache"), AsBytes("newer")).ok());
    EXPECT_EQ("new", ReadFileToString(Path("cache")));
    EXPECT_EQ(std::vector<std::string>{"cache"}, Children());
  }
}

TEST_F(EnvUtilTest, ShortWriteDuringAtomicWriteLeavesOldContent) {
  ASSERT_TRUE(WriteFileAtomic(env_, Path("config"), AsBytes("old")).ok());
  FaultInjectionEnv fenv(env_);
  fenv.SetShortWriteAtOp(2);
  Status s = WriteFileAtomic(&fenv, Path("config"), AsBytes(RandomBytes(1000, 3)));
  EXPECT_EQ(Code::kNoSpace, s.code());
  EXPECT_EQ("old", ReadFileToString(Path("config")));
  EXPECT_EQ(std::vector<std::string>{"config"}, Children());
}

TEST_F(EnvUtilTest, CreateDirsCreatesEveryMissingComponentWithTheMode) {
  const std::string deep = Path("a/b/c");
  ASSERT_TRUE(CreateDirs(env_, deep, 0700).ok());
  for (const std::string& p : {Path("a"), Path("a/b"), deep}) {
    auto info = env_->Stat(p);
    ASSERT_TRUE(info.ok()) << p;
    EXPECT_EQ(FileType::kDirectory, info->type);
    EXPECT_EQ(0700u, info->mode) << p;
  }
  EXPECT_TRUE(CreateDirs(env_, deep).ok()) << "existing directory is fine";
  EXPECT_TRUE(CreateDirs(env_, deep + "/").ok());
  ASSERT_TRUE(env_->CreateSymlink("a", Path("link")).ok());
  EXPECT_TRUE(CreateDirs(env_, Path("link/b")).ok()) << "a symlink to a directory is followed";
}

TEST_F(EnvUtilTest, CreateDirsFailsOnAnExistingNonDirectory) {
  WriteStringToFile(Path("file"), "x");
  EXPECT_FALSE(CreateDirs(env_, Path("file")).ok());
  EXPECT_FALSE(CreateDirs(env_, Path("file/sub")).ok());
  EXPECT_FALSE(CreateDirs(env_, "").ok());
}

TEST(PathTest, DirNameFollowsPosixDirname) {
  EXPECT_EQ("a/b", DirName("a/b/c"));
  EXPECT_EQ(".", DirName("c"));
  EXPECT_EQ("/", DirName("/c"));
  EXPECT_EQ("/", DirName("/"));
  EXPECT_EQ("a", DirName("a/b/"));
  EXPECT_EQ("a", DirName("a//b"));
  EXPECT_EQ("/x", DirName("/x/y"));
}

TEST(PathTest, JoinPathInsertsExactlyOneSlash) {
  EXPECT_EQ("a/b", JoinPath("a", "b"));
  EXPECT_EQ("a/b", JoinPath("a/", "b"));
  EXPECT_EQ("/b", JoinPath("/", "b"));
  EXPECT_EQ("/r/x", JoinPath("/r", "/x"));
  EXPECT_EQ("a", JoinPath("a", ""));
  EXPECT_EQ("b", JoinPath("", "b"));
}

TEST_F(EnvUtilTest, RemoveTreeRemovesEverythingBelowAndNeverFollowsASymlink) {
  // Something outside the tree that a symlink inside points at: it must survive.
  ASSERT_TRUE(env_->CreateDir(Path("outside")).ok());
  WriteStringToFile(Path("outside/precious"), "keep");
  ASSERT_TRUE(CreateDirs(env_, Path("tree/a/b")).ok());
  WriteStringToFile(Path("tree/a/b/f"), "x");
  WriteStringToFile(Path("tree/top"), "y");
  ASSERT_TRUE(env_->CreateSymlink(Path("outside"), Path("tree/a/link")).ok());
  // A read-only directory (as an archive may restore one) is emptied too.
  ASSERT_EQ(0, chmod(Path("tree/a/b").c_str(), 0500));
  ASSERT_TRUE(RemoveTree(env_, Path("tree")).ok());
  EXPECT_FALSE(env_->Stat(Path("tree")).ok());
  EXPECT_EQ(ReadFileToString(Path("outside/precious")), "keep");
  EXPECT_TRUE(RemoveTree(env_, Path("tree")).ok()) << "a missing path is already removed";
}

}  // namespace
}  // namespace qm
