#include "store/ops/in_place_restorer.h"

#include <fnmatch.h>

#include <map>
#include <set>

#include "core/path.h"
#include "store/ops/archiver.h"
#include "store/ops/database_inspector.h"
#include "store/ops/snapshot_reader.h"

namespace qm {
namespace {

// A pattern selects a file by its path or name, or by a parent directory's path.
bool Matches(const std::vector<std::string>& patterns, const std::string& rel) {
  for (const std::string& p : patterns) {
    if (GlobMatchesPathOrName(p, rel)) return true;
    for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1))
      if (fnmatch(p.c_str(), rel.substr(0, slash).c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace

bool RestoreSelects(const InPlaceRestoreOptions& options, const std::string& rel) {
  if (!options.includes.empty() && !Matches(options.includes, rel)) return false;
  return !Matches(options.excludes, rel);
}

Result<InPlaceRestoreResult> PlanInPlaceRestore(Repository* repo, const Snapshot& snapshot,
                                                const InPlaceRestoreOptions& options) {
  Env* env = repo->env();
  InPlaceRestoreResult out;
  QM_RETURN_IF_ERROR(WalkTree(repo, snapshot.record.root_tree, "", true, [&](const std::string& rel, const Node& n) {
    if (n.type == NodeType::kDir || !RestoreSelects(options, rel)) return Status::OK();
    PlannedFile f;
    f.path = rel;
    f.size_new = n.size;
    f.database = DatabaseCaptureOf(n).has_value();
    auto now = env->Stat(JoinPath(options.target, rel));
    if (now.ok()) {
      f.exists = true;
      f.size_now = now->size;
    }
    out.plan.push_back(std::move(f));
    return Status::OK();
  }));
  // Who holds the databases (or their sidecars) open: one pass over /proc.
  std::vector<std::string> paths;
  std::vector<size_t> owner;  // paths[i] belongs to out.plan[owner[i]]
  for (size_t i = 0; i < out.plan.size(); i++) {
    if (!out.plan[i].database || !out.plan[i].exists) continue;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      paths.push_back(JoinPath(options.target, out.plan[i].path) + suffix);
      owner.push_back(i);
    }
  }
  QM_ASSIGN_OR_RETURN(auto holders, env->ProcessesWithOpen(paths));
  std::map<size_t, std::set<int>> by_file;
  for (size_t k = 0; k < paths.size(); k++) by_file[owner[k]].insert(holders[k].begin(), holders[k].end());
  for (const auto& [i, pids] : by_file)
    if (!pids.empty()) out.held.emplace_back(out.plan[i].path, std::vector<int>(pids.begin(), pids.end()));
  return out;
}

Result<InPlaceRestoreResult> RestoreInPlace(Repository* repo, const Snapshot& snapshot,
                                            const InPlaceRestoreOptions& options, ProgressSink* progress) {
  // Planned again even when the caller showed a plan: the service may have
  // been started while the operator read it and answered the prompt.
  QM_ASSIGN_OR_RETURN(InPlaceRestoreResult out, PlanInPlaceRestore(repo, snapshot, options));
  if (!out.held.empty() && !options.force) {
    std::string who;
    for (const auto& [path, pids] : out.held) {
      who += (who.empty() ? "" : "; ") + path + " by process";
      for (int pid : pids) who += " " + std::to_string(pid);
    }
    return Status::Aborted("restore refused: databases are open (" + who + ")",
                           "stop QuantMesh first, or pass --force; nothing was changed");
  }

  // The safety snapshot: what is there now, before anything is replaced.
  Env* env = repo->env();
  std::set<std::string> tops;
  for (const PlannedFile& f : out.plan) tops.insert(f.path.substr(0, f.path.find('/')));
  BackupOptions safety;
  safety.source = options.target;
  safety.tags = {"before-restore"};
  for (const std::string& t : tops)
    if (env->Stat(JoinPath(options.target, t)).ok()) safety.extra_paths.push_back(t);
  QM_ASSIGN_OR_RETURN(auto children, env->GetChildren(options.target));
  if (!children.empty()) {
    auto taken = Backup(repo, safety, progress);
    if (!taken.ok()) return taken.status().WithContext("safety snapshot before restore failed; nothing was changed");
    if (!taken->errors.empty())
      return Status::Aborted("safety snapshot before restore is incomplete (" + taken->errors.front().path + ": " +
                                 taken->errors.front().status.message() + ")",
                             "nothing was changed");
    out.safety_snapshot = taken->snapshot_id;
  }

  RestoreOptions ro(options.target);
  ro.into_existing = true;
  ro.check_databases = true;
  if (!options.includes.empty() || !options.excludes.empty())
    ro.select = [&options](const std::string& rel) { return RestoreSelects(options, rel); };
  QM_ASSIGN_OR_RETURN(out.restore, Restore(repo, snapshot, ro, progress));
  return out;
}

}  // namespace qm
