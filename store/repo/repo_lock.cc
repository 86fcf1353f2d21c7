#include "store/repo/repo_lock.h"

#include "core/time_format.h"

namespace qm {
namespace {

std::string DescribeHolder(const Bytes& content) {
  std::string s(content.begin(), content.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? std::string("an unknown process") : s;
}

}  // namespace

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(Env* env, const RepoLayout& layout, std::string* stale_holder) {
  stale_holder->clear();
  const std::string path = layout.LockFile();
  auto lock = env->TryLockFile(path);
  if (!lock.ok()) {
    if (lock.status().code() != Code::kLocked) return lock.status().WithContext("lock repository");
    auto content = ReadFileToBytes(env, path, 4096);
    std::string who = content.ok() ? DescribeHolder(*content) : "another process";
    return Status::Locked("repository " + layout.root() + " is locked by " + who +
                          "; another qm-snap is writing to it (wait for it to finish)");
  }
  // We hold the flock. Leftover content means the previous holder died
  // without releasing: its kernel lock vanished with it.
  auto previous = ReadFileToBytes(env, path, 4096);
  if (previous.ok() && !previous->empty()) *stale_holder = DescribeHolder(*previous);

  const int64_t now = env->NowUnixNanos() / 1000000000;
  std::string text =
      "pid=" + std::to_string(env->ProcessId()) + " host=" + env->HostName() + " time=" + FormatTimeIso(now) + "\n";
  // Written in place (not atomically renamed): the flock lives on this inode.
  auto file = env->NewWritableFile(path, 0600);
  if (!file.ok()) return file.status().WithContext("write lock file");
  QM_RETURN_IF_ERROR((*file)->Append(AsBytes(text)));
  QM_RETURN_IF_ERROR((*file)->Close());
  return std::unique_ptr<RepoLock>(new RepoLock(env, path, std::move(lock).value()));
}

RepoLock::~RepoLock() {
  // Emptying the file marks a clean release; failing to do so only makes the
  // next writer report a stale lock, which it then takes over.
  auto file = env_->NewWritableFile(path_, 0600);
  if (file.ok()) (*file)->Close().IgnoreError();
  lock_.reset();
}

}  // namespace qm
