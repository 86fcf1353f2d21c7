#include "store/ops/archive_restorer.h"

namespace qm {

Result<ArchiveRestoreResult> RestoreArchive(Env* env, const ArchiveRestoreOptions& options) {
  const int64_t started = env->NowUnixNanos();
  const std::string& target = options.target;
  bool created = false;
  auto info = env->Stat(target);
  if (info.ok()) {
    if (info->type != FileType::kDirectory)
      return Status::InvalidArgument("restore target " + target + " exists and is not a directory");
    QM_ASSIGN_OR_RETURN(auto children, env->GetChildren(target));
    if (!children.empty())
      return Status::InvalidArgument("restore target " + target +
                                     " is not empty; restore into a new or empty directory");
  } else if (info.status().IsNotFound()) {
    QM_RETURN_IF_ERROR(CreateDirs(env, target, 0700));
    created = true;
  } else {
    return info.status();
  }
  // Anything that goes wrong from here leaves the target as it was found.
  auto undo = [&] {
    if (created) {
      RemoveTree(env, target).IgnoreError();
    } else {
      auto children = env->GetChildren(target);
      if (children.ok())
        for (const std::string& c : *children) RemoveTree(env, JoinPath(target, c)).IgnoreError();
    }
  };

  const std::string staging = JoinPath(target, ".qm-archive-restore-" + std::to_string(env->ProcessId()));
  Status made = env->CreateDir(staging, 0700);
  if (!made.ok()) {
    undo();
    return made.WithContext("restore: staging folder");
  }
  ArchiveReadOptions read;
  read.archive = options.archive;
  read.extract_to = staging;
  auto report = ReadArchive(env, read);
  if (!report.ok() || !report->ok()) {
    undo();
    if (!report.ok()) return report.status();
    return ArchiveRestoreResult{std::move(report).value(), 0};
  }
  // Every check passed: move the staged tree into place.
  Status s;
  auto staged = env->GetChildren(staging);
  if (!staged.ok()) s = staged.status();
  for (size_t i = 0; s.ok() && i < staged->size(); i++)
    s = env->RenameFile(JoinPath(staging, (*staged)[i]), JoinPath(target, (*staged)[i]));
  if (s.ok()) s = env->RemoveDir(staging);
  if (s.ok()) s = env->SyncDir(target);
  if (!s.ok()) {
    undo();
    return s.WithContext("restore: moving the verified files into " + target);
  }
  ArchiveRestoreResult result{std::move(report).value(), 0};
  result.duration_s = static_cast<double>(env->NowUnixNanos() - started) / 1e9;
  return result;
}

}  // namespace qm
