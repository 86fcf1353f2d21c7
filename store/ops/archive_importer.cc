#include "store/ops/archive_importer.h"

#include <algorithm>

namespace qm {

Result<ImportResult> ImportArchive(Repository* repo, const ImportOptions& options, ProgressSink* progress) {
  Env* env = repo->env();
  const std::string staging = JoinPath(repo->layout().TmpDir(), "import-" + std::to_string(env->ProcessId()) + "-" +
                                                                    std::to_string(env->NowUnixNanos()));
  QM_RETURN_IF_ERROR(env->CreateDir(staging, 0700).WithContext("import: staging folder"));
  struct Cleanup {
    Env* env;
    std::string path;
    ~Cleanup() { RemoveTree(env, path).IgnoreError(); }
  } cleanup{env, staging};

  ArchiveReadOptions read;
  read.archive = options.archive;
  read.extract_to = staging;
  QM_ASSIGN_OR_RETURN(ArchiveReport report, ReadArchive(env, read));
  ImportResult result;
  if (!report.ok()) {
    result.report = std::move(report);
    return result;
  }
  const ArchiveInfo& info = report.info;
  if (info.time_unix == 0) return Status::InvalidArgument(options.archive, "backup_info.json has no valid time");
  if (!info.snapshot_id.empty()) {
    auto existing = repo->FindSnapshot(info.snapshot_id);
    if (existing.ok() && existing->id.Hex() == info.snapshot_id)
      return Status::AlreadyExists("import " + options.archive,
                                   "this store already holds its snapshot " + existing->id.ShortHex());
  }

  BackupOptions backup;
  backup.source = staging;
  backup.record_source = info.source.empty() ? "archive:" + report.name : info.source;
  if (!info.hostname.empty()) backup.record_hostname = info.hostname;
  backup.time_unix = info.time_unix;
  backup.tags = info.tags;
  backup.tags.push_back("imported");
  backup.tags.insert(backup.tags.end(), options.tags.begin(), options.tags.end());
  // Everything the archive holds, not just the guide's default set (whose
  // logs/ would be filtered by age); names the default set also takes are
  // taken once.
  QM_ASSIGN_OR_RETURN(auto children, env->GetChildren(staging));
  std::sort(children.begin(), children.end());
  backup.extra_paths = children;
  // The extracted files are new inodes: nothing may be taken as unchanged
  // from a parent by its file stamps.
  backup.force_read = true;
  auto done = Backup(repo, backup, progress);
  if (!done.ok()) return done.status().WithContext("import " + options.archive);
  if (!done->errors.empty()) {
    const BackupItemError& first = done->errors.front();
    return Status::IOError("import " + options.archive,
                           first.path + " could not be stored: " + first.status.ToString());
  }
  result.report = std::move(report);
  result.backup = std::move(done).value();
  return result;
}

}  // namespace qm
