#include "store/ops/restorer.h"

#include <algorithm>
#include <memory>
#include <thread>

#include "core/tree.h"
#include "store/ops/database_inspector.h"

namespace qm {
namespace {

class Restorer {
 public:
  Restorer(Repository* repo, const RestoreOptions& opt, ProgressSink* progress)
      : repo_(repo), env_(repo->env()), opt_(opt), progress_(progress) {}

  // Restores the entries of `tree_id` into `dir`; *restored counts what was
  // written (files and symlinks) so unselected directories can be dropped.
  Status RestoreTree(const Hash256& tree_id, const std::string& dir, const std::string& rel, uint64_t* restored);
  RestoreResult result;

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
  auto file = env_->NewWritableFile(tmp, 0600);
  if (!file.ok()) return file.status().WithContext("restore " + rel);
  // Chunks are loaded (index lookup, read, decompress, SHA-256 check) by
  // one thread per core over windows of up to 8 MiB / 1024 chunks; while a
  // window is written (in order, 1 MiB appends) the next one is loading.
  // Memory stays bounded by two windows.
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  struct Window {
    size_t begin = 0, end = 0;
    std::vector<Hash256> ids;
    std::vector<std::vector<Bytes>> parts;
    std::vector<Status> errors;
    std::vector<std::thread> pool;
  };
  auto start = [&](size_t begin) {
    auto w = std::make_unique<Window>();
    w->begin = w->end = begin;
    uint64_t bytes = 0;
    while (w->end < node.chunks.size() && w->end - begin < 1024 && bytes < (8u << 20))
      bytes += node.chunks[w->end++].raw_len;
    const size_t n = w->end - begin;
    for (size_t i = begin; i < w->end; i++) w->ids.push_back(node.chunks[i].id);
    // Each thread takes a contiguous part, so its blobs come from the packs
    // in a few large reads.
    w->parts.resize(threads);
    w->errors.resize(threads);
    const size_t per = (n + threads - 1) / threads;
    Window* raw = w.get();
    for (unsigned t = 0; t < threads && n > 0; t++) {
      const size_t b = std::min(n, t * per), e = std::min(n, b + per);
      if (b < e)
        raw->pool.emplace_back(
            [this, raw, t, b, e] { raw->errors[t] = repo_->LoadBlobs(raw->ids.data() + b, e - b, &raw->parts[t]); });
    }
    return w;
  };
  Status s;
  uint64_t written = 0;
  Bytes out;
  out.reserve(1 << 20);
  std::unique_ptr<Window> cur = start(0);
  while (cur) {
    for (std::thread& th : cur->pool) th.join();
    std::unique_ptr<Window> next = s.ok() && cur->end < node.chunks.size() ? start(cur->end) : nullptr;
    for (const Status& e : cur->errors)
      if (s.ok() && !e.ok()) s = e;
    size_t i = cur->begin;
    for (auto& part : cur->parts) {
      for (Bytes& chunk : part) {
        if (!s.ok()) break;
        if (chunk.size() != node.chunks[i].raw_len) {
          s = Status::Corruption("chunk " + node.chunks[i].id.ShortHex(), "size differs from the manifest");
          break;
        }
        out.insert(out.end(), chunk.begin(), chunk.end());
        written += chunk.size();
        i++;
        if (out.size() >= (1 << 20)) {
          s = (*file)->Append(out);
          out.clear();
        }
      }
    }
    if (s.ok() && i != cur->end) s = Status::Corruption("restore " + rel, "chunks missing from a read");
    if (!s.ok() && next) {
      for (std::thread& th : next->pool) th.join();  // never leave a loader running
      next.reset();
    }
    cur = std::move(next);
  }
  if (s.ok() && !out.empty()) s = (*file)->Append(out);
  if (s.ok() && (written != node.size || ContentIdOf(node.chunks) != node.content_id)) {
    s = Status::Corruption("manifest entry does not match its chunks");
  }
  if (s.ok()) s = (*file)->Sync();
  Status closed = (*file)->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = env_->SetPermissions(tmp, node.mode & 07777);
  if (s.ok()) s = env_->SetMtime(tmp, node.mtime_ns);
  if (s.ok()) s = Replace(tmp, path, rel, DatabaseCaptureOf(node).has_value());
  if (!s.ok()) {
    env_->RemoveFile(tmp).IgnoreError();  // best effort: the real name was never touched
    return s.WithContext("restore " + rel);
  }
  result.files++;
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
        // Mode and mtime last: writing children would change the mtime, and a
        // read-only directory could not receive them.
        QM_RETURN_IF_ERROR(env_->SetPermissions(path, node.mode & 07777));
        QM_RETURN_IF_ERROR(env_->SetMtime(path, node.mtime_ns));
        result.dirs++;
        *restored += below;
        break;
      }
      case NodeType::kFile:
        if (opt_.select && !opt_.select(child_rel)) break;
        if (existing.ok() && existing->type == FileType::kDirectory)
          return Status::InvalidArgument("restore " + child_rel, "is a directory in the target");
        QM_RETURN_IF_ERROR(repo_->ExpandChunkList(&node).WithContext("restore " + child_rel));
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
  // Make the names of this directory durable.
  return env_->SyncDir(dir);
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
  QM_RETURN_IF_ERROR(restorer.RestoreTree(snapshot.record.root_tree, options.target, "", &restored));
  restorer.result.duration_s = static_cast<double>(env->NowUnixNanos() - started) / 1e9;
  return restorer.result;
}

}  // namespace qm
