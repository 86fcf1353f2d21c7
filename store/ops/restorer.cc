#include "store/ops/restorer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/tree.h"
#include "store/ops/chunk_loader.h"
#include "store/ops/database_inspector.h"
#include "store/ops/sqlite_check.h"

namespace qm {
namespace {

// Runs the last steps of each restored file (fsync, close, mode, mtime,
// rename) and of each directory (mode, mtime, fsync) on a thread of its
// own, in the order they were queued, while the next file is loaded and
// written. The fsync of a 1 GiB database waits ~0.5 s for the disk; the
// files after it no longer wait with it. After the first failure the
// remaining jobs are abandoned (their temporary files removed), and
// Drain() returns that failure.
class Finisher {
 public:
  struct Job {
    std::function<Status()> run;
    std::function<void()> abandon;  // may be empty
  };
  Finisher() : thread_([this] { Loop(); }) {}
  ~Finisher() { Drain().IgnoreError(); }
  void Add(Job job) {
    {
      std::lock_guard<std::mutex> l(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }
  // Waits for every queued job; the first failure, or OK. Ends the thread.
  Status Drain() {
    {
      std::lock_guard<std::mutex> l(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return first_error_;
  }

 private:
  void Loop() {
    while (true) {
      Job job;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return closing_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      if (!first_error_.ok()) {
        if (job.abandon) job.abandon();
        continue;
      }
      first_error_ = job.run();  // this thread's alone until joined
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;  // guarded by mu_
  bool closing_ = false;  // guarded by mu_
  Status first_error_;
  std::thread thread_;
};

constexpr uint64_t kSyncEvery = 64u << 20;

class Restorer {
 public:
  Restorer(Repository* repo, const RestoreOptions& opt, ProgressSink* progress)
      : repo_(repo), env_(repo->env()), opt_(opt), progress_(progress) {}

  // Restores the entries of `tree_id` into `dir`; *restored counts what was
  // written (files and symlinks) so unselected directories can be dropped.
  Status RestoreTree(const Hash256& tree_id, const std::string& dir, const std::string& rel, uint64_t* restored);
  RestoreResult result;
  Finisher finisher;
  // check_databases: (relative path, path) of each restored database, checked
  // once every file is in place.
  std::vector<std::pair<std::string, std::string>> databases;

 private:
  Status RestoreFile(const Node& node, const std::string& path, const std::string& rel);
  Status Replace(const std::string& tmp, const std::string& path, const std::string& rel, bool database);

  Repository* repo_;
  Env* env_;
  const RestoreOptions& opt_;
  ProgressSink* progress_;
};

// Renames `tmp` over `path`. For a database restored into existing data,
// its old -wal, -shm and -journal are first renamed aside, then removed once
// the new file's name is durable: a crash in between leaves the old
// database without its sidecars (or the new one without them), never the
// new database beside an old WAL that SQLite would replay over it.
Status Restorer::Replace(const std::string& tmp, const std::string& path, const std::string& rel, bool database) {
  std::vector<std::pair<std::string, std::string>> aside;
  if (database && opt_.into_existing) {
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      const std::string side = path + suffix;
      const std::string parked = side + ".qm-stale";
      if (!env_->Stat(side).ok()) {
        // Nothing to set aside; sweep what an interrupted restore set aside
        // and never removed (a current sidecar is renamed over it instead).
        env_->RemoveFile(parked).IgnoreError();
        continue;
      }
      QM_RETURN_IF_ERROR(env_->RenameFile(side, parked).WithContext("set aside stale " + rel + suffix));
      aside.emplace_back(parked, rel + suffix);
    }
    if (!aside.empty()) QM_RETURN_IF_ERROR(env_->SyncDir(DirName(path)));
  }
  QM_RETURN_IF_ERROR(env_->RenameFile(tmp, path));
  if (aside.empty()) return Status::OK();
  QM_RETURN_IF_ERROR(env_->SyncDir(DirName(path)));
  for (const auto& [parked, name] : aside) {
    QM_RETURN_IF_ERROR(env_->RemoveFile(parked).WithContext("remove stale " + name));
    result.sidecars_removed.push_back(name);
  }
  return Status::OK();
}

Status Restorer::RestoreFile(const Node& node, const std::string& path, const std::string& rel) {
  const std::string tmp = path + ".qm-restore-tmp";
  auto file = env_->NewBulkWritableFile(tmp, 0600);
  if (!file.ok()) return file.status().WithContext("restore " + rel);
  // Shared with the finishing thread, which alone closes it.
  std::shared_ptr<WritableFile> f(std::move(file).value());
  Status s;
  uint64_t written = 0, synced_to = 0;
  // Chunks are loaded (located, read, decompressed, SHA-256 checked) on
  // every core, a few MiB ahead of this thread, which appends each run of
  // them as it lies (store/ops/chunk_loader.h).
  {
    ChunkLoader loader(repo_, node, std::max(1u, std::thread::hardware_concurrency()));
    Bytes data;
    std::vector<uint32_t> sizes;
    while (s.ok()) {
      // Checked against the list as it comes; the last call checks the
      // whole list (chunk count, content id, the file size, which is what
      // was appended), before this file can take its name.
      auto more = loader.Next(&data, &sizes);
      if (!more.ok()) s = more.status();
      if (!s.ok() || !*more) break;
      s = f->Append(data);
      written += data.size();
      // The disk's part of the final fsync (~0.5 s for 870 MiB here, even
      // with O_DIRECT: the device's cache is flushed) is started every
      // kSyncEvery on the finishing thread, while this one keeps writing.
      if (s.ok() && written - synced_to >= kSyncEvery) {
        synced_to = written;
        finisher.Add({[f] { return f->SyncWrittenSoFar(); }, nullptr});
      }
    }
  }
  if (!s.ok()) {
    // Closed and removed on the finishing thread, after any sync queued for it.
    auto drop = [this, f, tmp] {
      f->Close().IgnoreError();
      env_->RemoveFile(tmp).IgnoreError();  // best effort: the real name was never touched
    };
    finisher.Add({[drop] {
                    drop();
                    return Status::OK();
                  },
                  drop});
    return s.WithContext("restore " + rel);
  }
  // The rest waits for the disk; the next file need not.
  const uint32_t mode = node.mode & 07777;
  const int64_t mtime = node.mtime_ns;
  const bool database = DatabaseCaptureOf(node).has_value();
  finisher.Add({[this, f, tmp, path, rel, mode, mtime, database]() -> Status {
                  Status st = f->Sync();
                  Status closed = f->Close();
                  if (st.ok()) st = closed;
                  if (st.ok()) st = env_->SetPermissions(tmp, mode);
                  if (st.ok()) st = env_->SetMtime(tmp, mtime);
                  if (st.ok()) st = Replace(tmp, path, rel, database);
                  if (!st.ok()) {
                    env_->RemoveFile(tmp).IgnoreError();  // best effort: the real name was never touched
                    return st.WithContext("restore " + rel);
                  }
                  return Status::OK();
                },
                [this, f, tmp] {
                  f->Close().IgnoreError();
                  env_->RemoveFile(tmp).IgnoreError();
                }});
  result.files++;
  if (database && opt_.check_databases) databases.emplace_back(rel, path);
  result.bytes += written;
  if (progress_) progress_->FileDone(rel, written, false);
  return Status::OK();
}

Status Restorer::RestoreTree(const Hash256& tree_id, const std::string& dir, const std::string& rel,
                             uint64_t* restored) {
  // Shallow: a file's chunk list is loaded only if that file is restored.
  QM_ASSIGN_OR_RETURN(Tree tree, repo_->LoadTreeShallow(tree_id));
  for (Node& node : tree.nodes) {
    const std::string path = dir + "/" + node.name;
    const std::string child_rel = rel.empty() ? node.name : rel + "/" + node.name;
    auto existing = opt_.into_existing ? env_->Stat(path) : Result<FileInfo>(Status::NotFound(path));
    switch (node.type) {
      case NodeType::kDir: {
        bool created = false;
        if (existing.ok() && existing->type != FileType::kDirectory)
          return Status::InvalidArgument("restore " + child_rel, "exists in the target and is not a directory");
        if (!existing.ok()) {
          QM_RETURN_IF_ERROR(env_->CreateDir(path, 0700).WithContext("restore " + child_rel));
          created = true;
        }
        uint64_t below = 0;
        QM_RETURN_IF_ERROR(RestoreTree(node.subtree, path, child_rel, &below));
        if (below == 0 && opt_.select) {
          if (created) QM_RETURN_IF_ERROR(env_->RemoveDir(path));
          break;
        }
        // Mode and mtime last, after the finisher has renamed the children
        // into place: writing children would change the mtime, and a
        // read-only directory could not receive them.
        const uint32_t mode = node.mode & 07777;
        const int64_t mtime = node.mtime_ns;
        finisher.Add({[this, path, mode, mtime]() -> Status {
                        QM_RETURN_IF_ERROR(env_->SetPermissions(path, mode));
                        return env_->SetMtime(path, mtime);
                      },
                      nullptr});
        result.dirs++;
        *restored += below;
        break;
      }
      case NodeType::kFile:
        if (opt_.select && !opt_.select(child_rel)) break;
        if (existing.ok() && existing->type == FileType::kDirectory)
          return Status::InvalidArgument("restore " + child_rel, "is a directory in the target");
        QM_RETURN_IF_ERROR(RestoreFile(node, path, child_rel));
        ++*restored;
        break;
      case NodeType::kSymlink: {
        if (opt_.select && !opt_.select(child_rel)) break;
        if (existing.ok() && existing->type == FileType::kDirectory)
          return Status::InvalidArgument("restore " + child_rel, "is a directory in the target");
        // Created under a temporary name and renamed, so an existing entry
        // is replaced atomically.
        const std::string tmp = path + ".qm-restore-tmp";
        env_->RemoveFile(tmp).IgnoreError();
        QM_RETURN_IF_ERROR(env_->CreateSymlink(node.link_target, tmp).WithContext("restore " + child_rel));
        QM_RETURN_IF_ERROR(env_->SetMtime(tmp, node.mtime_ns));
        QM_RETURN_IF_ERROR(env_->RenameFile(tmp, path).WithContext("restore " + child_rel));
        result.symlinks++;
        ++*restored;
        break;
      }
    }
  }
  // Make the names of this directory durable, once they are all in place
  // (a directory left empty by a selection is removed by the caller).
  if (*restored > 0 || rel.empty() || !opt_.select) finisher.Add({[this, dir] { return env_->SyncDir(dir); }, nullptr});
  return Status::OK();
}

}  // namespace

Result<RestoreResult> Restore(Repository* repo, const Snapshot& snapshot, const RestoreOptions& options,
                              ProgressSink* progress) {
  Env* env = repo->env();
  const int64_t started = env->NowUnixNanos();
  auto info = env->Stat(options.target);
  if (info.ok()) {
    if (info->type != FileType::kDirectory) {
      return Status::InvalidArgument("restore target " + options.target + " exists and is not a directory");
    }
    QM_ASSIGN_OR_RETURN(auto children, env->GetChildren(options.target));
    if (!children.empty() && !options.into_existing) {
      return Status::InvalidArgument("restore target " + options.target +
                                     " is not empty; restore into a new or empty directory");
    }
  } else if (info.status().IsNotFound()) {
    QM_RETURN_IF_ERROR(CreateDirs(env, options.target, 0700));
  } else {
    return info.status();
  }
  Restorer restorer(repo, options, progress);
  uint64_t restored = 0;
  Status s = restorer.RestoreTree(snapshot.record.root_tree, options.target, "", &restored);
  Status finished = restorer.finisher.Drain();
  QM_RETURN_IF_ERROR(s);
  QM_RETURN_IF_ERROR(finished);
  restorer.result.duration_s = static_cast<double>(env->NowUnixNanos() - started) / 1e9;
  for (const auto& [rel, path] : restorer.databases)
    restorer.result.integrity.emplace_back(rel, IntegrityCheckFile(path));
  return restorer.result;
}

}  // namespace qm
