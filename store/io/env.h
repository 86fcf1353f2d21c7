// Env: the only way qm-snap touches the operating system (LevelDB's Env).
//
// Every file the store writes or reads (packs, snapshot records, the config,
// the lock, temporary files, and the source files being backed up) goes
// through an Env, so tests can substitute one that fails the Nth operation,
// runs out of space, writes short, fails fsync, or "crashes" by dropping
// everything that was not synced (tests/support/fault_injection_env.h).
// SQLite and RocksDB bring their own I/O layers and are outside it.
//
// Durability contract of the interface: data appended to a WritableFile is
// durable only after Sync() returns OK; a new name (create or rename) is
// durable only after SyncDir() of its parent directory returns OK.
//
// Thread-safety: Env methods may be called concurrently. A file object must
// be used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/status.h"

namespace qm {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` or fails. A failed append may have written a prefix.
  virtual Status Append(ByteView data) = 0;
  // fsync (fdatasync is not enough: the size must be durable too).
  virtual Status Sync() = 0;
  // Starts the disk on what has been written so far (fdatasync of the bytes
  // already handed to the file system, not of those still buffered here), so
  // that the final Sync() has little left to wait for. Not a durability
  // promise: only Sync() is. Unlike the other methods it may run on another
  // thread while this file is appended to, but not after Close(). Default:
  // nothing.
  virtual Status SyncWrittenSoFar() { return Status::OK(); }
  // Closing never implies Sync. Destroying an unclosed file closes it.
  virtual Status Close() = 0;
};

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `n` bytes into `scratch`; returns the count, 0 at EOF.
  virtual Result<size_t> Read(size_t n, uint8_t* scratch) = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads exactly `n` bytes at `offset` into `scratch`; fewer bytes
  // available is Corruption ("short read"). Safe to call concurrently.
  virtual Status ReadAt(uint64_t offset, size_t n, uint8_t* scratch) const = 0;
  virtual uint64_t Size() const = 0;
};

enum class FileType : uint8_t { kRegular, kDirectory, kSymlink, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint32_t mode = 0;  // permission bits (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t dev = 0;
};

// Held while alive; the destructor releases it.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never deleted.
  static Env* Default();

  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;
  // Creates or truncates `path` with `mode` (0600 by default: repositories
  // hold password hashes and API keys).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, uint32_t mode = 0600) = 0;
  // Like NewWritableFile, for a large file written once, front to back, and
  // then synced (a restore). The POSIX Env writes it around the page cache
  // (O_DIRECT, 8 MiB writes) where the file system allows, else like
  // NewWritableFile: on our hosts copying 1 GiB into fresh page cache costs
  // ~1.3 s of CPU and the final fsync another ~0.5 s of waiting, and a
  // restore would evict the trading service's cached pages. The default,
  // which wrappers inherit, is NewWritableFile (so fault injection sees it).
  virtual Result<std::unique_ptr<WritableFile>> NewBulkWritableFile(const std::string& path, uint32_t mode = 0600) {
    return NewWritableFile(path, mode);
  }

  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Creates one directory with `mode`; AlreadyExists if it exists.
  virtual Status CreateDir(const std::string& path, uint32_t mode = 0700) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;
  // fsync of a directory, making creates/renames/removes in it durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Names in `path`, without "." and "..", unsorted.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& path) = 0;
  // lstat(): symlinks are reported as kSymlink, not followed.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  virtual Result<std::string> ReadLink(const std::string& path) = 0;
  virtual Status CreateSymlink(const std::string& target, const std::string& path) = 0;
  virtual Status SetPermissions(const std::string& path, uint32_t mode) = 0;
  // Sets mtime (and atime to the same value); does not follow symlinks.
  virtual Status SetMtime(const std::string& path, int64_t mtime_ns) = 0;

  // An exclusive advisory lock on `path` (created 0600 if missing), not
  // waiting: Locked if another holder has it. The lock is released when the
  // returned object is destroyed or the process dies, so a lock left by a
  // killed process is never mistaken for a live one.
  virtual Result<std::unique_ptr<FileLock>> TryLockFile(const std::string& path) = 0;

  virtual int64_t NowUnixNanos() = 0;
  virtual std::string HostName() = 0;
  virtual std::string UserName() = 0;
  virtual int ProcessId() = 0;
  // True when a process with `pid` exists on this host.
  virtual bool ProcessAlive(int pid) = 0;
  // Number of hardware threads (at least 1).
  virtual unsigned Concurrency() = 0;

  // For each of `paths`, the other processes that hold it open (Linux:
  // /proc/PID/fd links, read once for all paths), ascending; processes of
  // other users are visible only to root. Used to refuse restoring over a
  // database the service still has open.
  virtual Result<std::vector<std::vector<int>>> ProcessesWithOpen(const std::vector<std::string>& paths) = 0;

  // Whether standard input is a terminal (someone can answer a question).
  virtual bool StdinIsTerminal() = 0;
};

// Forwards every call to a target Env; fault-injecting Envs override a few.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& p) override {
    return target_->NewSequentialFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return target_->NewRandomAccessFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p, uint32_t mode = 0600) override {
    return target_->NewWritableFile(p, mode);
  }
  Status RenameFile(const std::string& f, const std::string& t) override { return target_->RenameFile(f, t); }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status CreateDir(const std::string& p, uint32_t mode = 0700) override { return target_->CreateDir(p, mode); }
  Status RemoveDir(const std::string& p) override { return target_->RemoveDir(p); }
  Status SyncDir(const std::string& p) override { return target_->SyncDir(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& p) override { return target_->GetChildren(p); }
  Result<FileInfo> Stat(const std::string& p) override { return target_->Stat(p); }
  Result<std::string> ReadLink(const std::string& p) override { return target_->ReadLink(p); }
  Status CreateSymlink(const std::string& t, const std::string& p) override { return target_->CreateSymlink(t, p); }
  Status SetPermissions(const std::string& p, uint32_t m) override { return target_->SetPermissions(p, m); }
  Status SetMtime(const std::string& p, int64_t t) override { return target_->SetMtime(p, t); }
  Result<std::unique_ptr<FileLock>> TryLockFile(const std::string& p) override { return target_->TryLockFile(p); }
  int64_t NowUnixNanos() override { return target_->NowUnixNanos(); }
  std::string HostName() override { return target_->HostName(); }
  std::string UserName() override { return target_->UserName(); }
  int ProcessId() override { return target_->ProcessId(); }
  bool ProcessAlive(int pid) override { return target_->ProcessAlive(pid); }
  unsigned Concurrency() override { return target_->Concurrency(); }
  Result<std::vector<std::vector<int>>> ProcessesWithOpen(const std::vector<std::string>& p) override {
    return target_->ProcessesWithOpen(p);
  }
  bool StdinIsTerminal() override { return target_->StdinIsTerminal(); }

 private:
  Env* target_;
};

// Helpers built only on the Env interface (store/io/env_util.cc).

// Reads a whole file (at most `max_size` bytes, else InvalidArgument).
Result<Bytes> ReadFileToBytes(Env* env, const std::string& path, uint64_t max_size = 64u << 20);
// Durably replaces `path` with `data`: write `path`.tmp-<pid>, Sync, Close,
// Rename, SyncDir(parent). On failure the old file (if any) is untouched and
// the temporary is removed where possible.
Status WriteFileAtomic(Env* env, const std::string& path, ByteView data, uint32_t mode = 0600);
// Replaces `path` with `data` through the temporary `tmp` (write, Close,
// Rename), without any fsync: for local caches that are checked on every
// read. After a crash `path` may hold the old bytes, the new ones, or a
// partial file. On failure the temporary is removed where possible.
Status ReplaceFileUnsynced(Env* env, const std::string& tmp, const std::string& path, ByteView data,
                           uint32_t mode = 0600);
// mkdir -p with `mode` for each created component; OK if it exists as a directory.
Status CreateDirs(Env* env, const std::string& path, uint32_t mode = 0700);
// rm -rf without following symlinks: removes `path` (a file, symlink or
// directory) and everything under it. OK if `path` does not exist.
Status RemoveTree(Env* env, const std::string& path);
// Parent directory of `path` ("a/b/c" -> "a/b", "c" -> ".").
std::string DirName(const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);

// Sets the process umask to 077, so that files created by libraries that do
// their own I/O (RocksDB, SQLite) are private too. Called once by the CLI.
void RestrictFileCreationMask();

// The process's soft limit on open files (RLIMIT_NOFILE; 1024 when it cannot
// be read, kMaxOpenFileLimit when unlimited).
uint64_t OpenFileLimit();
// Raises that soft limit to the hard one, at most kMaxOpenFileLimit, and
// returns the limit now in force (the old one when the raise is refused).
// The default soft limit, 1024, is a relic of select(2), which qm-snap does
// not use; a restore after days of hourly runs reads from hundreds of packs
// and keeps each open (Repository::OpenPack). Go programs such as restic
// get the same raise from their runtime. Process-wide: called once by the CLI.
uint64_t RaiseOpenFileLimit();
inline constexpr uint64_t kMaxOpenFileLimit = 65536;

}  // namespace qm
