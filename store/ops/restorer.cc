#include "store/ops/restorer.h"

#include <algorithm>
#include <thread>

#include "core/tree.h"

namespace qm {
namespace {

class Restorer {
 public:
  Restorer(Repository* repo, ProgressSink* progress) : repo_(repo), env_(repo->env()), progress_(progress) {}

  Status RestoreTree(const Hash256& tree_id, const std::string& dir, const std::string& rel);
  RestoreResult result;

 private:
  Status RestoreFile(const Node& node, const std::string& path, const std::string& rel);

  Repository* repo_;
  Env* env_;
  ProgressSink* progress_;
};

Status Restorer::RestoreFile(const Node& node, const std::string& path, const std::string& rel) {
  const std::string tmp = path + ".qm-restore-tmp";
  auto file = env_->NewWritableFile(tmp, 0600);
  if (!file.ok()) return file.status().WithContext("restore " + rel);
  // Chunks are loaded (index lookup, read, decompress, SHA-256 check) by
  // one thread per core over windows of up to 8 MiB / 1024 chunks, then
  // written in order as 1 MiB appends. Memory stays bounded by the window.
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  Status s;
  uint64_t written = 0;
  Bytes out;
  out.reserve(1 << 20);
  std::vector<Bytes> loaded;
  for (size_t begin = 0; s.ok() && begin < node.chunks.size();) {
    size_t end = begin;
    uint64_t window_bytes = 0;
    while (end < node.chunks.size() && end - begin < 1024 && window_bytes < (8u << 20))
      window_bytes += node.chunks[end++].raw_len;
    loaded.resize(end - begin);
    std::vector<Status> errors(threads);
    auto load = [&](unsigned t) {
      for (size_t i = begin + t; i < end; i += threads) {
        Status ls = repo_->LoadBlob(node.chunks[i].id, &loaded[i - begin]);
        if (ls.ok() && loaded[i - begin].size() != node.chunks[i].raw_len)
          ls = Status::Corruption("chunk " + node.chunks[i].id.ShortHex(), "size differs from the manifest");
        if (!ls.ok()) {
          errors[t] = ls;
          return;
        }
      }
    };
    if (end - begin < 8 || threads == 1) {
      for (unsigned t = 0; t < threads; t++) load(t);
    } else {
      std::vector<std::thread> pool;
      for (unsigned t = 1; t < threads; t++) pool.emplace_back(load, t);
      load(0);
      for (std::thread& th : pool) th.join();
    }
    for (const Status& e : errors)
      if (s.ok() && !e.ok()) s = e;
    for (size_t i = 0; s.ok() && i < end - begin; i++) {
      out.insert(out.end(), loaded[i].begin(), loaded[i].end());
      written += loaded[i].size();
      if (out.size() >= (1 << 20)) {
        s = (*file)->Append(out);
        out.clear();
      }
    }
    begin = end;
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
  if (s.ok()) s = env_->RenameFile(tmp, path);
  if (!s.ok()) {
    env_->RemoveFile(tmp).IgnoreError();  // best effort: the real name was never touched
    return s.WithContext("restore " + rel);
  }
  result.files++;
  result.bytes += written;
  if (progress_) progress_->FileDone(rel, written, false);
  return Status::OK();
}

Status Restorer::RestoreTree(const Hash256& tree_id, const std::string& dir, const std::string& rel) {
  QM_ASSIGN_OR_RETURN(Tree tree, repo_->LoadTree(tree_id));
  for (const Node& node : tree.nodes) {
    const std::string path = dir + "/" + node.name;
    const std::string child_rel = rel.empty() ? node.name : rel + "/" + node.name;
    switch (node.type) {
      case NodeType::kDir:
        QM_RETURN_IF_ERROR(env_->CreateDir(path, 0700).WithContext("restore " + child_rel));
        QM_RETURN_IF_ERROR(RestoreTree(node.subtree, path, child_rel));
        // Mode and mtime last: writing children would change the mtime, and a
        // read-only directory could not receive them.
        QM_RETURN_IF_ERROR(env_->SetPermissions(path, node.mode & 07777));
        QM_RETURN_IF_ERROR(env_->SetMtime(path, node.mtime_ns));
        result.dirs++;
        break;
      case NodeType::kFile: QM_RETURN_IF_ERROR(RestoreFile(node, path, child_rel)); break;
      case NodeType::kSymlink:
        QM_RETURN_IF_ERROR(env_->CreateSymlink(node.link_target, path).WithContext("restore " + child_rel));
        QM_RETURN_IF_ERROR(env_->SetMtime(path, node.mtime_ns));
        result.symlinks++;
        break;
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
    if (!children.empty()) {
      return Status::InvalidArgument("restore target " + options.target +
                                     " is not empty; restore into a new or empty directory");
    }
  } else if (info.status().IsNotFound()) {
    QM_RETURN_IF_ERROR(CreateDirs(env, options.target, 0700));
  } else {
    return info.status();
  }
  Restorer restorer(repo, progress);
  QM_RETURN_IF_ERROR(restorer.RestoreTree(snapshot.record.root_tree, options.target, ""));
  restorer.result.duration_s = static_cast<double>(env->NowUnixNanos() - started) / 1e9;
  return restorer.result;
}

}  // namespace qm
