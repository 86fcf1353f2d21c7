// RepoLock: the single-writer lock of a repository.
//
// Writers (init, backup, future prune) hold an exclusive flock() on R/lock
// for their whole run and write "pid=… host=… time=…" into it so a refused
// second writer can say who holds it. flock() is released by the kernel when
// the holder dies, so a lock left by a killed process is never mistaken for a
// live one: the next writer takes it over and reports the stale holder.
// Readers (snapshots, restore, check) take no lock.
//
// Thread-safety: not thread-safe; one per process run.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "store/io/env.h"
#include "store/repo/repo_layout.h"

namespace qm {

class RepoLock {
 public:
  // Locked (with the holder's pid, host and start time in the message) when
  // another live process holds it. On OK, *stale_holder is set to the
  // description of a previous holder that died without releasing (empty if none).
  static Result<std::unique_ptr<RepoLock>> Acquire(Env* env, const RepoLayout& layout, std::string* stale_holder);

  // Empties the lock file, then releases the flock.
  ~RepoLock();

 private:
  RepoLock(Env* env, std::string path, std::unique_ptr<FileLock> lock)
      : env_(env), path_(std::move(path)), lock_(std::move(lock)) {}
  Env* env_;
  std::string path_;
  std::unique_ptr<FileLock> lock_;
};

}  // namespace qm
