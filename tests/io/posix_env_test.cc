// PosixEnv: exact permissions regardless of umask, errno mapping, short
// reads, lstat semantics, and flock() locks that die with their holder.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "store/io/env.h"
#include "tests/support/test_util.h"

namespace qm {

// Defined in store/io/posix_env.cc; not in env.h because only PosixEnv and
// this test need it.
Status PosixError(const std::string& context, int error_number);

namespace {

uint32_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(0, lstat(path.c_str(), &st)) << path;
  return st.st_mode & 07777;
}

// Sets the umask for one scope and restores the previous one.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }

 private:
  mode_t old_;
};

class PosixEnvTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  Status Write(const std::string& path, const std::string& content, uint32_t mode = 0600) {
    auto f = env_->NewWritableFile(path, mode);
    if (!f.ok()) return f.status();
    QM_RETURN_IF_ERROR((*f)->Append(AsBytes(content)));
    QM_RETURN_IF_ERROR((*f)->Sync());
    return (*f)->Close();
  }

  TempDir dir_;
  Env* env_ = Env::Default();
};

TEST_F(PosixEnvTest, FilesAre0600AndDirs0700EvenWithUmask0) {
  ScopedUmask mask(0);
  ASSERT_TRUE(Write(Path("f"), "x").ok());
  ASSERT_TRUE(env_->CreateDir(Path("d")).ok());
  EXPECT_EQ(0600u, ModeOf(Path("f")));
  EXPECT_EQ(0700u, ModeOf(Path("d")));
}

TEST_F(PosixEnvTest, FilesAre0600AndDirs0700WithUmask077) {
  ScopedUmask mask(077);
  ASSERT_TRUE(Write(Path("f"), "x").ok());
  ASSERT_TRUE(env_->CreateDir(Path("d")).ok());
  EXPECT_EQ(0600u, ModeOf(Path("f")));
  EXPECT_EQ(0700u, ModeOf(Path("d")));
}

TEST_F(PosixEnvTest, ExplicitModeIsExactNeitherLoosenedNorTightenedByUmask) {
  {
    ScopedUmask mask(077);
    ASSERT_TRUE(Write(Path("public"), "x", 0644).ok());
    ASSERT_TRUE(env_->CreateDir(Path("pubdir"), 0755).ok());
  }
  EXPECT_EQ(0644u, ModeOf(Path("public")));
  EXPECT_EQ(0755u, ModeOf(Path("pubdir")));
}

TEST_F(PosixEnvTest, RewritingAnExistingFileResetsItsModeToTheRequestedOne) {
  ASSERT_TRUE(Write(Path("f"), "old", 0666).ok());
  ASSERT_EQ(0666u, ModeOf(Path("f")));
  ASSERT_TRUE(Write(Path("f"), "new").ok());
  EXPECT_EQ(0600u, ModeOf(Path("f")));
  EXPECT_EQ("new", ReadFileToString(Path("f")));
}

TEST_F(PosixEnvTest, PosixErrorMapsErrnoToCodesAndNamesPathAndReason) {
  Status s = PosixError("open /x/y", ENOENT);
  EXPECT_EQ(Code::kNotFound, s.code());
  EXPECT_EQ("open /x/y: No such file or directory", s.message());
  EXPECT_EQ(Code::kNoSpace, PosixError("write /x", ENOSPC).code());
  EXPECT_EQ(Code::kNoSpace, PosixError("write /x", EDQUOT).code());
  EXPECT_EQ(Code::kPermissionDenied, PosixError("open /x", EACCES).code());
  EXPECT_EQ(Code::kPermissionDenied, PosixError("open /x", EPERM).code());
  EXPECT_EQ(Code::kAlreadyExists, PosixError("mkdir /x", EEXIST).code());
  EXPECT_EQ(Code::kIOError, PosixError("fsync /x", EIO).code());
  EXPECT_EQ(Code::kIOError, PosixError("open /x", ENOTDIR).code());
  EXPECT_NE(std::string::npos, PosixError("write /x", ENOSPC).message().find("/x: No space left on device"));
}

TEST_F(PosixEnvTest, OpeningAMissingFileIsNotFoundNamingThePath) {
  auto f = env_->NewSequentialFile(Path("missing"));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsNotFound());
  EXPECT_NE(std::string::npos, f.status().message().find(Path("missing")));
  EXPECT_EQ(Code::kAlreadyExists, env_->CreateDir(dir_.path()).code());
}

TEST_F(PosixEnvTest, ReadAtReadsExactRangesAndAShortReadIsCorruption) {
  ASSERT_TRUE(Write(Path("f"), "0123456789").ok());
  auto f = env_->NewRandomAccessFile(Path("f"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(10u, (*f)->Size());
  char buf[10];
  ASSERT_TRUE((*f)->ReadAt(3, 4, reinterpret_cast<uint8_t*>(buf)).ok());
  EXPECT_EQ("3456", std::string(buf, 4));
  Status s = (*f)->ReadAt(5, 10, reinterpret_cast<uint8_t*>(buf));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(Path("f")));
  EXPECT_NE(std::string::npos, s.message().find("offset 5"));
}

TEST_F(PosixEnvTest, SequentialFileReadsToEof) {
  const std::string data = RandomBytes(100000, 7);
  ASSERT_TRUE(Write(Path("f"), data).ok());
  auto f = env_->NewSequentialFile(Path("f"));
  ASSERT_TRUE(f.ok());
  std::string got;
  uint8_t buf[4096];
  while (true) {
    auto n = (*f)->Read(sizeof(buf), buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    got.append(reinterpret_cast<char*>(buf), *n);
  }
  EXPECT_EQ(data, got);
}

TEST_F(PosixEnvTest, StatOfSymlinkReportsSymlinkAndDoesNotFollow) {
  ASSERT_TRUE(Write(Path("target"), "hello").ok());
  ASSERT_TRUE(env_->CreateSymlink("target", Path("link")).ok());
  auto info = env_->Stat(Path("link"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(FileType::kSymlink, info->type);
  EXPECT_EQ(6u, info->size);  // the length of "target", not of the file
  auto target = env_->ReadLink(Path("link"));
  ASSERT_TRUE(target.ok());
  EXPECT_EQ("target", *target);

  auto file = env_->Stat(Path("target"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(FileType::kRegular, file->type);
  EXPECT_EQ(5u, file->size);
  EXPECT_EQ(0600u, file->mode);
  auto dir = env_->Stat(dir_.path());
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(FileType::kDirectory, dir->type);
}

TEST_F(PosixEnvTest, SetMtimeKeepsNanosecondsAndDoesNotFollowSymlinks) {
  ASSERT_TRUE(Write(Path("target"), "x").ok());
  ASSERT_TRUE(env_->CreateSymlink("target", Path("link")).ok());
  const int64_t t = 1738161022123456789;  // 2025-01-29T14:30:22.123456789Z
  ASSERT_TRUE(env_->SetMtime(Path("link"), t).ok());
  EXPECT_EQ(t, env_->Stat(Path("link"))->mtime_ns);
  EXPECT_NE(t, env_->Stat(Path("target"))->mtime_ns);
  ASSERT_TRUE(env_->SetMtime(Path("target"), -1500000000).ok());  // before 1970
  EXPECT_EQ(-1500000000, env_->Stat(Path("target"))->mtime_ns);
}

TEST_F(PosixEnvTest, GetChildrenListsNamesWithoutDots) {
  ASSERT_TRUE(Write(Path("a"), "").ok());
  ASSERT_TRUE(env_->CreateDir(Path("b")).ok());
  auto names = env_->GetChildren(dir_.path());
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), *names);
  EXPECT_TRUE(env_->GetChildren(Path("none")).status().IsNotFound());
}

TEST_F(PosixEnvTest, RenameRemoveAndSyncDir) {
  ASSERT_TRUE(Write(Path("a"), "A").ok());
  ASSERT_TRUE(env_->RenameFile(Path("a"), Path("b")).ok());
  EXPECT_TRUE(env_->SyncDir(dir_.path()).ok());
  EXPECT_EQ("A", ReadFileToString(Path("b")));
  EXPECT_TRUE(env_->Stat(Path("a")).status().IsNotFound());
  ASSERT_TRUE(env_->RemoveFile(Path("b")).ok());
  EXPECT_TRUE(env_->RemoveFile(Path("b")).IsNotFound());
  ASSERT_TRUE(env_->CreateDir(Path("d")).ok());
  ASSERT_TRUE(env_->RemoveDir(Path("d")).ok());
  EXPECT_TRUE(env_->SyncDir(Path("d")).IsNotFound());
}

TEST_F(PosixEnvTest, SecondLockInTheSameProcessIsLockedUntilTheFirstIsReleased) {
  auto first = env_->TryLockFile(Path("lock"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(0600u, ModeOf(Path("lock")));
  auto second = env_->TryLockFile(Path("lock"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(Code::kLocked, second.status().code()) << second.status().ToString();
  first->reset();
  auto third = env_->TryLockFile(Path("lock"));
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(PosixEnvTest, LockHeldByAChildKilledWithSigkillIsAcquirable) {
  const std::string lock = Path("lock");
  int pipefd[2];
  ASSERT_EQ(0, pipe(pipefd));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto held = Env::Default()->TryLockFile(lock);
    char c = held.ok() ? 'L' : 'F';
    if (write(pipefd[1], &c, 1) != 1) _exit(2);
    while (true) pause();  // hold the lock until killed
  }
  close(pipefd[1]);
  char c = 0;
  ASSERT_EQ(1, read(pipefd[0], &c, 1));
  close(pipefd[0]);
  ASSERT_EQ('L', c) << "child could not take the lock";

  auto while_alive = env_->TryLockFile(lock);
  EXPECT_EQ(Code::kLocked, while_alive.status().code());
  EXPECT_TRUE(env_->ProcessAlive(pid));

  ASSERT_EQ(0, kill(pid, SIGKILL));
  int status = 0;
  ASSERT_EQ(pid, waitpid(pid, &status, 0));
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(env_->ProcessAlive(pid));

  auto after = env_->TryLockFile(lock);
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

TEST_F(PosixEnvTest, HostUserProcessAndClock) {
  EXPECT_FALSE(env_->HostName().empty());
  EXPECT_FALSE(env_->UserName().empty());
  EXPECT_EQ(static_cast<int>(getpid()), env_->ProcessId());
  EXPECT_TRUE(env_->ProcessAlive(env_->ProcessId()));
  EXPECT_FALSE(env_->ProcessAlive(0));
  EXPECT_FALSE(env_->ProcessAlive(-1));
  EXPECT_GE(env_->Concurrency(), 1u);
  EXPECT_GT(env_->NowUnixNanos(), int64_t{1700000000} * 1000000000);
}

// A bulk file (O_DIRECT where the file system allows) holds exactly the
// bytes appended, whatever their sizes: partial last blocks are padded for
// the device and cut back, on Sync, on a Close without Sync and when an
// unclosed file is destroyed, and the mode is exact. On tmpfs, which
// refuses O_DIRECT, it falls back.
TEST(PosixBulkFileTest, HoldsExactlyWhatWasAppended) {
  TempDir dir;
  Env* env = Env::Default();
  std::vector<std::string> roots = {dir.path()};
  if (access("/dev/shm", W_OK) == 0) {
    char tmpl[] = "/dev/shm/qm-bulk-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) roots.push_back(tmpl);
  }
  const size_t kMiB = 1 << 20;
  for (const std::string& root : roots) {
    for (size_t size :
         {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, 8 * kMiB, 8 * kMiB + 1, 20 * kMiB + 123}) {
      for (int ending : {0, 1, 2}) {  // Sync and Close; Close alone; destroyed unclosed
        const std::string path = root + "/bulk-" + std::to_string(size) + "-" + std::to_string(ending);
        const std::string data = RandomBytes(size, size % 1000);
        auto f = env->NewBulkWritableFile(path, 0640);
        ASSERT_TRUE(f.ok()) << f.status().ToString();
        // Appends of uneven sizes, as a restore's chunks come, while another
        // thread syncs what is written so far, as the restore's finisher does.
        std::atomic<bool> done{false};
        std::atomic<int> syncs_failed{0};
        std::thread syncer([&] {
          while (!done.load()) {
            if (!(*f)->SyncWrittenSoFar().ok()) syncs_failed++;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        });
        size_t at = 0, step = 1;
        while (at < data.size()) {
          const size_t n = std::min(step, data.size() - at);
          ASSERT_TRUE((*f)->Append(ByteView(reinterpret_cast<const uint8_t*>(data.data()) + at, n)).ok());
          at += n;
          step = step * 7 % 3000001 + 1;
        }
        done = true;
        syncer.join();
        EXPECT_EQ(syncs_failed.load(), 0);
        if (ending == 0) {
          ASSERT_TRUE((*f)->Sync().ok());
        }
        if (ending <= 1) {
          ASSERT_TRUE((*f)->Close().ok());
        }
        f->reset();  // closes an unclosed file, with everything written out
        EXPECT_EQ(ReadFileToString(path).size(), size) << path;
        EXPECT_TRUE(ReadFileToString(path) == data) << path;
        EXPECT_EQ(ModeOf(path), 0640u) << path;
      }
    }
    if (root != dir.path()) RemoveTree(env, root).IgnoreError();
  }
}

}  // namespace
}  // namespace qm
