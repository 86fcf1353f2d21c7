// FaultInjectionEnv: an Env for tests that fails on command and simulates a
// crash by forgetting everything that was not made durable.
//
// It wraps a real Env (normally Env::Default() on a TempDir) and forwards
// every call, except that:
//
//  * It counts "mutating operations": NewWritableFile, WritableFile::Append,
//    WritableFile::Sync, WritableFile::Close, RenameFile, RemoveFile,
//    CreateDir and SyncDir each count one. Every such call counts, including
//    ones that fail. A test runs a workload once to learn how many operations
//    it makes, then reruns it failing each one in turn (FailAtOp).
//
//  * It injects errors into those operations (FailAtOp, SetSticky,
//    SetShortWriteAtOp, FailSyncs) and into opening files for reading
//    (FailReadsOf). An injected failure does not perform the operation, with
//    two exceptions that mirror the OS: a failed Close still releases the
//    underlying file, and a short write writes half of the data.
//
//  * It records what is durable under the Env durability contract
//    (store/io/env.h), modelled on LevelDB's fault_injection_test:
//      - for every file written through this Env, its size at the last
//        successful Sync() (0 if never synced);
//      - for every directory, the names created (NewWritableFile, CreateDir)
//        or renamed into it since its last successful SyncDir().
//    DropUnsyncedData() then turns the disk into what a power cut could
//    leave: see there.
//
// Paths are compared as strings: spell a directory the same way in SyncDir()
// as in the paths of the files in it (trailing slashes are ignored).
//
// Thread-safety: all methods may be called concurrently (one mutex guards
// the counters, knobs and durability records; it is not held during the
// underlying I/O). File objects follow the Env rule: one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "core/status.h"
#include "store/io/env.h"

namespace qm {

class FaultInjectionEnv : public EnvWrapper {
 public:
  // `target` must outlive this Env.
  explicit FaultInjectionEnv(Env* target = Env::Default());

  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  // ---- Counting ----

  // Mutating operations since construction or the last ResetCounter().
  uint64_t mutating_ops() const;
  // Sets the count to 0. A pending FailAtOp/SetShortWriteAtOp is re-based:
  // its n then counts from this reset.
  void ResetCounter();

  // ---- Failing the n-th operation ----

  // The n-th mutating operation (1-based) after this call, or after a later
  // ResetCounter(), fails with `code` without being performed. The message
  // names the operation and path and says "injected EIO" for kIOError,
  // "injected ENOSPC" for kNoSpace ("injected <CodeName>" otherwise).
  // n == 0 cancels. Replaces an earlier FailAtOp.
  void FailAtOp(uint64_t n, Code code = Code::kIOError);
  // false (the default): only the chosen operation fails.
  // true: once an injected failure (FailAtOp or a short write) has happened,
  // every later mutating operation fails with the same code, as a disk that
  // has gone bad or stays full would.
  void SetSticky(bool sticky);
  // If the n-th mutating operation (1-based, counted like FailAtOp) is an
  // Append, it writes the first half of its data (size / 2 bytes) to the
  // file and returns NoSpace ("injected ENOSPC (short write)"). Any other
  // operation at n runs normally. n == 0 cancels.
  void SetShortWriteAtOp(uint64_t n);
  // While set, every Sync and SyncDir fails with IOError ("injected fsync
  // failure") without syncing, so nothing becomes durable. They still count.
  void FailSyncs(bool fail);
  // NewSequentialFile and NewRandomAccessFile of any path containing
  // `path_substring` fail with IOError ("injected read failure"). Replaces
  // the previous substring; the empty string turns this off. Reads do not
  // count as mutating operations.
  void FailReadsOf(std::string path_substring);
  // Turns every knob above off (the durability records are kept).
  void ClearFaults();
  // True once any FailAtOp / short-write failure has been injected.
  bool injected() const;

  // ---- Crash simulation ----

  // Makes the target's files look as after a power cut at this instant:
  //  1. every file written through this Env is truncated to its size at its
  //     last successful Sync() (never synced: empty);
  //  2. every name created or renamed into a directory since that
  //     directory's last successful SyncDir() is deleted (a directory
  //     recursively). This is pessimistic: a real file system may keep an
  //     unsynced rename, but qm-snap must not depend on it.
  // Not modelled: a RemoveFile/RemoveDir whose directory was not synced
  // could bring the old name back after a real crash; here removals always
  // stick. Truncation keeps nothing beyond the last Sync even where a real
  // disk might have written more.
  // Close (or destroy) every file of this Env first. Afterwards the records
  // are cleared (what is on disk now is durable); reopen the store with the
  // plain target Env. Returns the first error met; continues past errors.
  Status DropUnsyncedData();

  // ---- Env overrides ----

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, uint32_t mode = 0600) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status CreateDir(const std::string& path, uint32_t mode = 0700) override;
  Status RemoveDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;

 private:
  friend class FaultInjectionWritableFile;

  enum class Op { kNewWritableFile, kAppend, kSync, kClose, kRename, kRemoveFile, kCreateDir, kSyncDir };

  // What BeginOp decided for one mutating operation.
  struct Decision {
    Status status;             // non-OK: fail the operation with this
    bool short_write = false;  // Append only: write half, then fail with `status`
  };

  // Durability record of one file, shared with its open WritableFile so a
  // rename while open keeps them connected.
  struct FileState {
    uint64_t size = 0;         // bytes appended through this Env since creation
    uint64_t synced_size = 0;  // `size` at the last successful Sync
  };

  // Counts one mutating operation and decides whether to inject a fault.
  Decision BeginOp(Op op, const std::string& path);
  Status InjectedError(Code code, Op op, const std::string& path, const char* what) const;

  // Records for the WritableFile wrapper.
  void RecordAppend(const std::shared_ptr<FileState>& state, uint64_t bytes);
  void RecordSync(const std::shared_ptr<FileState>& state);

  // Callers hold mu_.
  void AddNewNameLocked(const std::string& path);
  void ForgetNameLocked(const std::string& path);
  Status TruncateLocked(const std::string& path, uint64_t size, uint32_t mode);
  void RenameRecordsLocked(const std::string& from, const std::string& to);
  void ForgetTreeLocked(const std::string& dir);
  Status RemoveRecursivelyLocked(const std::string& path);

  mutable std::mutex mu_;
  uint64_t ops_ = 0;
  // FailAtOp(n) fires when ops_ reaches fail_base_ + fail_n_ (n == 0: off);
  // the base is ops_ at the call, or 0 after ResetCounter().
  uint64_t fail_n_ = 0;
  uint64_t fail_base_ = 0;
  Code fail_code_ = Code::kIOError;
  uint64_t short_write_n_ = 0;  // same scheme for SetShortWriteAtOp
  uint64_t short_write_base_ = 0;
  bool sticky_ = false;
  bool injected_ = false;  // a FailAtOp/short-write fault has fired
  Code injected_code_ = Code::kIOError;
  bool fail_syncs_ = false;
  std::string fail_reads_of_;

  // Path -> durability record of files written through this Env.
  std::map<std::string, std::shared_ptr<FileState>> files_;
  // Directory -> full paths of names created/renamed into it since its last
  // successful SyncDir.
  std::map<std::string, std::set<std::string>> unsynced_names_;
};

}  // namespace qm
