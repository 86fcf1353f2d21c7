#include "tests/support/fault_injection_env.h"

#include <iterator>
#include <utility>
#include <vector>

namespace qm {
namespace {

const char* OpName(int op) {
  static const char* const kNames[] = {"open for writing", "append", "fsync", "close",
                                       "rename",           "unlink", "mkdir", "fsync directory"};
  return kNames[op];
}

std::string StripTrailingSlashes(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  return path.substr(0, end);
}

// True when `path` is `dir` itself or lies below it.
bool IsAtOrBelow(const std::string& path, const std::string& dir) {
  if (path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/' || dir == "/";
}

// `path` (at or below `from`) with the `from` prefix replaced by `to`.
std::string Reparent(const std::string& path, const std::string& from, const std::string& to) {
  return to + path.substr(from.size());
}

}  // namespace

// The WritableFile handed out by FaultInjectionEnv: counts and fails its
// operations through the Env and keeps the file's durability record.
class FaultInjectionWritableFile final : public WritableFile {
 public:
  FaultInjectionWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> target,
                             std::shared_ptr<FaultInjectionEnv::FileState> state)
      : env_(env), path_(std::move(path)), target_(std::move(target)), state_(std::move(state)) {}

  Status Append(ByteView data) override {
    FaultInjectionEnv::Decision d = env_->BeginOp(FaultInjectionEnv::Op::kAppend, path_);
    if (d.short_write) {
      ByteView half = data.first(data.size() / 2);
      if (target_->Append(half).ok()) env_->RecordAppend(state_, half.size());
      return d.status;
    }
    if (!d.status.ok()) return d.status;
    Status s = target_->Append(data);
    if (s.ok()) env_->RecordAppend(state_, data.size());
    return s;
  }

  Status Sync() override {
    FaultInjectionEnv::Decision d = env_->BeginOp(FaultInjectionEnv::Op::kSync, path_);
    if (!d.status.ok()) return d.status;
    Status s = target_->Sync();
    if (s.ok()) env_->RecordSync(state_);
    return s;
  }

  Status Close() override {
    FaultInjectionEnv::Decision d = env_->BeginOp(FaultInjectionEnv::Op::kClose, path_);
    // close() releases the descriptor even when it reports an error, so the
    // underlying file is closed either way.
    Status s = target_->Close();
    return d.status.ok() ? s : d.status;
  }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  const std::unique_ptr<WritableFile> target_;
  const std::shared_ptr<FaultInjectionEnv::FileState> state_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* target) : EnvWrapper(target) {}

uint64_t FaultInjectionEnv::mutating_ops() const {
  std::lock_guard<std::mutex> l(mu_);
  return ops_;
}

void FaultInjectionEnv::ResetCounter() {
  std::lock_guard<std::mutex> l(mu_);
  ops_ = 0;
  fail_base_ = 0;
  short_write_base_ = 0;
}

void FaultInjectionEnv::FailAtOp(uint64_t n, Code code) {
  std::lock_guard<std::mutex> l(mu_);
  fail_n_ = n;
  fail_base_ = ops_;
  fail_code_ = code;
}

void FaultInjectionEnv::SetSticky(bool sticky) {
  std::lock_guard<std::mutex> l(mu_);
  sticky_ = sticky;
}

void FaultInjectionEnv::SetShortWriteAtOp(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  short_write_n_ = n;
  short_write_base_ = ops_;
}

void FaultInjectionEnv::FailSyncs(bool fail) {
  std::lock_guard<std::mutex> l(mu_);
  fail_syncs_ = fail;
}

void FaultInjectionEnv::FailReadsOf(std::string path_substring) {
  std::lock_guard<std::mutex> l(mu_);
  fail_reads_of_ = std::move(path_substring);
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  fail_n_ = 0;
  short_write_n_ = 0;
  sticky_ = false;
  injected_ = false;
  fail_syncs_ = false;
  fail_reads_of_.clear();
}

bool FaultInjectionEnv::injected() const {
  std::lock_guard<std::mutex> l(mu_);
  return injected_;
}

Status FaultInjectionEnv::InjectedError(Code code, Op op, const std::string& path, const char* what) const {
  std::string message = std::string(OpName(static_cast<int>(op))) + " " + path + ": ";
  if (what != nullptr) {
    message += what;
  } else if (code == Code::kIOError) {
    message += "injected EIO";
  } else if (code == Code::kNoSpace) {
    message += "injected ENOSPC";
  } else {
    message += "injected " + std::string(CodeName(code));
  }
  return Status(code, std::move(message));
}

FaultInjectionEnv::Decision FaultInjectionEnv::BeginOp(Op op, const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  ++ops_;
  Decision d;
  if (sticky_ && injected_) {
    d.status = InjectedError(injected_code_, op, path, nullptr);
    return d;
  }
  if (fail_n_ != 0 && ops_ == fail_base_ + fail_n_) {
    fail_n_ = 0;
    injected_ = true;
    injected_code_ = fail_code_;
    d.status = InjectedError(fail_code_, op, path, nullptr);
    return d;
  }
  if (short_write_n_ != 0 && ops_ == short_write_base_ + short_write_n_) {
    short_write_n_ = 0;
    if (op == Op::kAppend) {
      injected_ = true;
      injected_code_ = Code::kNoSpace;
      d.status = InjectedError(Code::kNoSpace, op, path, "injected ENOSPC (short write)");
      d.short_write = true;
      return d;
    }
  }
  if (fail_syncs_ && (op == Op::kSync || op == Op::kSyncDir)) {
    d.status = InjectedError(Code::kIOError, op, path, "injected fsync failure");
  }
  return d;
}

void FaultInjectionEnv::RecordAppend(const std::shared_ptr<FileState>& state, uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  state->size += bytes;
}

void FaultInjectionEnv::RecordSync(const std::shared_ptr<FileState>& state) {
  std::lock_guard<std::mutex> l(mu_);
  state->synced_size = state->size;
}

void FaultInjectionEnv::AddNewNameLocked(const std::string& path) {
  const std::string name = StripTrailingSlashes(path);
  unsynced_names_[DirName(name)].insert(name);
}

void FaultInjectionEnv::ForgetNameLocked(const std::string& path) {
  const std::string name = StripTrailingSlashes(path);
  auto it = unsynced_names_.find(DirName(name));
  if (it == unsynced_names_.end()) return;
  it->second.erase(name);
  if (it->second.empty()) unsynced_names_.erase(it);
}

// Moves every record at or below `from` to the same place below `to`, so a
// renamed file (or directory of files) keeps its durability state.
void FaultInjectionEnv::RenameRecordsLocked(const std::string& from, const std::string& to) {
  ForgetTreeLocked(to);  // whatever `to` named before is replaced
  std::vector<std::pair<std::string, std::shared_ptr<FileState>>> moved_files;
  for (auto it = files_.begin(); it != files_.end();) {
    if (IsAtOrBelow(it->first, from)) {
      moved_files.emplace_back(Reparent(it->first, from, to), std::move(it->second));
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [path, state] : moved_files) files_[path] = std::move(state);

  std::vector<std::pair<std::string, std::set<std::string>>> moved_dirs;
  for (auto it = unsynced_names_.begin(); it != unsynced_names_.end();) {
    if (IsAtOrBelow(it->first, from)) {
      std::set<std::string> names;
      for (const std::string& n : it->second) names.insert(Reparent(n, from, to));
      moved_dirs.emplace_back(Reparent(it->first, from, to), std::move(names));
      it = unsynced_names_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [dir, names] : moved_dirs) unsynced_names_[dir].insert(names.begin(), names.end());

  ForgetNameLocked(from);
  AddNewNameLocked(to);
}

// Drops every record at or below `dir` (the names there are gone).
void FaultInjectionEnv::ForgetTreeLocked(const std::string& dir) {
  for (auto it = files_.begin(); it != files_.end();) {
    it = IsAtOrBelow(it->first, dir) ? files_.erase(it) : std::next(it);
  }
  for (auto it = unsynced_names_.begin(); it != unsynced_names_.end();) {
    it = IsAtOrBelow(it->first, dir) ? unsynced_names_.erase(it) : std::next(it);
  }
  ForgetNameLocked(dir);
}

Result<std::unique_ptr<SequentialFile>> FaultInjectionEnv::NewSequentialFile(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!fail_reads_of_.empty() && path.find(fail_reads_of_) != std::string::npos) {
      return Status::IOError("open " + path, "injected read failure");
    }
  }
  return target()->NewSequentialFile(path);
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!fail_reads_of_.empty() && path.find(fail_reads_of_) != std::string::npos) {
      return Status::IOError("open " + path, "injected read failure");
    }
  }
  return target()->NewRandomAccessFile(path);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path, uint32_t mode) {
  Decision d = BeginOp(Op::kNewWritableFile, path);
  if (!d.status.ok()) return d.status;
  Result<std::unique_ptr<WritableFile>> file = target()->NewWritableFile(path, mode);
  if (!file.ok()) return file.status();
  auto state = std::make_shared<FileState>();
  {
    // Creating or truncating: like LevelDB, the name counts as new until
    // its directory is synced, and nothing of the content is durable.
    std::lock_guard<std::mutex> l(mu_);
    files_[path] = state;
    AddNewNameLocked(path);
  }
  return std::unique_ptr<WritableFile>(
      new FaultInjectionWritableFile(this, path, std::move(file).value(), std::move(state)));
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  Decision d = BeginOp(Op::kRename, from + " to " + to);
  if (!d.status.ok()) return d.status;
  Status s = target()->RenameFile(from, to);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    RenameRecordsLocked(StripTrailingSlashes(from), StripTrailingSlashes(to));
  }
  return s;
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  Decision d = BeginOp(Op::kRemoveFile, path);
  if (!d.status.ok()) return d.status;
  Status s = target()->RemoveFile(path);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(path);
    ForgetNameLocked(path);
  }
  return s;
}

Status FaultInjectionEnv::CreateDir(const std::string& path, uint32_t mode) {
  Decision d = BeginOp(Op::kCreateDir, path);
  if (!d.status.ok()) return d.status;
  Status s = target()->CreateDir(path, mode);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    AddNewNameLocked(path);
  }
  return s;
}

// Not a counted operation (see the header), but the records follow it.
Status FaultInjectionEnv::RemoveDir(const std::string& path) {
  Status s = target()->RemoveDir(path);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    ForgetTreeLocked(StripTrailingSlashes(path));
  }
  return s;
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  Decision d = BeginOp(Op::kSyncDir, path);
  if (!d.status.ok()) return d.status;
  Status s = target()->SyncDir(path);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    unsynced_names_.erase(StripTrailingSlashes(path));
  }
  return s;
}

Status FaultInjectionEnv::TruncateLocked(const std::string& path, uint64_t size, uint32_t mode) {
  // Env has no truncate; rewrite the durable prefix in place instead
  // (NewWritableFile truncates the same inode).
  Bytes prefix(size);
  if (size > 0) {
    QM_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> in, target()->NewRandomAccessFile(path));
    QM_RETURN_IF_ERROR(in->ReadAt(0, size, prefix.data()));
  }
  QM_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, target()->NewWritableFile(path, mode));
  QM_RETURN_IF_ERROR(out->Append(prefix));
  QM_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

Status FaultInjectionEnv::RemoveRecursivelyLocked(const std::string& path) {
  Result<FileInfo> info = target()->Stat(path);
  if (!info.ok()) return info.status().IsNotFound() ? Status::OK() : info.status();
  if (info->type != FileType::kDirectory) {
    Status s = target()->RemoveFile(path);
    return s.IsNotFound() ? Status::OK() : s;
  }
  QM_ASSIGN_OR_RETURN(std::vector<std::string> children, target()->GetChildren(path));
  for (const std::string& child : children) QM_RETURN_IF_ERROR(RemoveRecursivelyLocked(JoinPath(path, child)));
  return target()->RemoveDir(path);
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  Status first;
  auto note = [&first](const Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  // 1. Contents: cut every file back to what its last Sync made durable.
  for (const auto& [path, state] : files_) {
    Result<FileInfo> info = target()->Stat(path);
    if (!info.ok()) {
      if (!info.status().IsNotFound()) note(info.status());
      continue;  // removed, or under a directory removed since
    }
    if (info->type == FileType::kRegular && info->size > state->synced_size) {
      note(TruncateLocked(path, state->synced_size, info->mode).WithContext("dropping unsynced data"));
    }
  }
  // 2. Names: forget every name its directory never made durable.
  for (const auto& [dir, names] : unsynced_names_) {
    for (const std::string& name : names) {
      note(RemoveRecursivelyLocked(name).WithContext("dropping unsynced name"));
    }
  }
  // What is left on disk is now the durable state.
  files_.clear();
  unsynced_names_.clear();
  return first;
}

}  // namespace qm
