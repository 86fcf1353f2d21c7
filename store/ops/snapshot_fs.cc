#include "store/ops/snapshot_fs.h"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "core/path.h"
#include "store/ops/snapshot_reader.h"

namespace qm {
namespace {

constexpr uint64_t kChunkCacheBytes = 32u << 20;
constexpr size_t kTreeCacheEntries = 4096;

std::string LocalName(const Snapshot& s) {
  time_t t = static_cast<time_t>(s.record.time_unix);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + "_" + s.id.ShortHex();
}

FsEntry Dir(const std::string& name, int64_t mtime_ns) {
  FsEntry e;
  e.type = FsEntry::Type::kDir;
  e.name = name;
  e.mode = 0555;
  e.mtime_ns = mtime_ns;
  return e;
}

FsEntry Link(const std::string& name, const std::string& target, int64_t mtime_ns) {
  FsEntry e;
  e.type = FsEntry::Type::kSymlink;
  e.name = name;
  e.mode = 0777;
  e.size = target.size();
  e.link_target = target;
  e.mtime_ns = mtime_ns;
  return e;
}

}  // namespace

Result<std::unique_ptr<SnapshotFs>> SnapshotFs::Create(Repository* repo) {
  std::unique_ptr<SnapshotFs> fs(new SnapshotFs(repo));
  QM_ASSIGN_OR_RETURN(auto snaps, repo->ListSnapshots());
  std::stable_sort(snaps.begin(), snaps.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.record.time_unix != b.record.time_unix ? a.record.time_unix < b.record.time_unix
                                                    : a.record.time_nanos < b.record.time_nanos;
  });
  for (const Snapshot& s : snaps) {
    const std::string name = LocalName(s);
    fs->snapshots_.emplace_back(name, s);
    for (const std::string& tag : s.record.tags)
      if (!tag.empty() && tag.find('/') == std::string::npos && tag != "." && tag != "..")
        fs->tags_[tag].push_back(name);
  }
  return fs;
}

std::vector<std::string> SnapshotFs::SnapshotNames() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : snapshots_) out.push_back(name);
  return out;
}

FsEntry SnapshotFs::EntryOf(const Node& n) {
  FsEntry e;
  e.name = n.name;
  e.mtime_ns = n.mtime_ns;
  e.mode = n.mode & 07555;  // read-only view
  if (n.type == NodeType::kDir) {
    e.type = FsEntry::Type::kDir;
  } else if (n.type == NodeType::kSymlink) {
    e.type = FsEntry::Type::kSymlink;
    e.link_target = n.link_target;
    e.size = n.link_target.size();
    e.mode = 0777;
  } else {
    e.type = FsEntry::Type::kFile;
    e.size = n.size;
  }
  return e;
}

Result<std::shared_ptr<const Tree>> SnapshotFs::LoadTree(const Hash256& id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = trees_.find(id);
    if (it != trees_.end()) return it->second;
  }
  QM_ASSIGN_OR_RETURN(Tree t, repo_->LoadTreeShallow(id));
  auto shared = std::make_shared<const Tree>(std::move(t));
  std::lock_guard<std::mutex> lock(mu_);
  if (trees_.size() >= kTreeCacheEntries) trees_.clear();
  trees_.emplace(id, shared);
  return shared;
}

Result<SnapshotFs::Resolved> SnapshotFs::Resolve(const std::string& path) {
  const std::vector<std::string> parts = SplitPath(path);
  const int64_t newest = snapshots_.empty() ? 0 : snapshots_.back().second.record.time_unix * 1000000000LL;
  Resolved r;
  if (parts.empty()) {
    r.entry = Dir("", newest);
    return r;
  }
  auto not_found = [&] { return Status::NotFound(path, "no such file or directory"); };
  if (parts[0] == "latest" && parts.size() == 1) {
    if (snapshots_.empty()) return not_found();
    r.entry = Link("latest", "snapshots/" + snapshots_.back().first, newest);
    return r;
  }
  if (parts[0] == "by-tag") {
    if (parts.size() == 1) {
      r.entry = Dir("by-tag", newest);
      return r;
    }
    auto tag = tags_.find(parts[1]);
    if (tag == tags_.end()) return not_found();
    if (parts.size() == 2) {
      r.entry = Dir(parts[1], newest);
      return r;
    }
    if (parts.size() == 3 && std::find(tag->second.begin(), tag->second.end(), parts[2]) != tag->second.end()) {
      r.entry = Link(parts[2], "../../snapshots/" + parts[2], newest);
      return r;
    }
    return not_found();
  }
  if (parts[0] != "snapshots") return not_found();
  if (parts.size() == 1) {
    r.entry = Dir("snapshots", newest);
    return r;
  }
  const Snapshot* snap = nullptr;
  for (const auto& [name, s] : snapshots_)
    if (name == parts[1]) snap = &s;
  if (snap == nullptr) return not_found();
  Node node;
  node.name = parts[1];
  node.type = NodeType::kDir;
  node.mode = 0555;
  node.mtime_ns = snap->record.time_unix * 1000000000LL;
  node.subtree = snap->record.root_tree;
  for (size_t i = 2; i < parts.size(); i++) {
    if (node.type != NodeType::kDir) return not_found();
    QM_ASSIGN_OR_RETURN(auto tree, LoadTree(node.subtree));
    auto it = std::lower_bound(tree->nodes.begin(), tree->nodes.end(), parts[i],
                               [](const Node& n, const std::string& name) { return n.name < name; });
    if (it == tree->nodes.end() || it->name != parts[i]) return not_found();
    node = *it;
  }
  r.in_snapshot = true;
  r.node = node;
  r.entry = EntryOf(node);
  return r;
}

Result<FsEntry> SnapshotFs::Stat(const std::string& path) {
  QM_ASSIGN_OR_RETURN(Resolved r, Resolve(path));
  return r.entry;
}

Result<std::vector<FsEntry>> SnapshotFs::List(const std::string& path) {
  QM_ASSIGN_OR_RETURN(Resolved r, Resolve(path));
  if (r.entry.type != FsEntry::Type::kDir) return Status::InvalidArgument(path, "not a directory");
  std::vector<FsEntry> out;
  if (r.in_snapshot) {
    QM_ASSIGN_OR_RETURN(auto tree, LoadTree(r.node.subtree));
    for (const Node& n : tree->nodes) out.push_back(EntryOf(n));
    return out;
  }
  const std::vector<std::string> parts = SplitPath(path);
  const int64_t mtime = r.entry.mtime_ns;
  if (parts.empty()) {
    out.push_back(Dir("snapshots", mtime));
    if (!snapshots_.empty()) out.push_back(Link("latest", "snapshots/" + snapshots_.back().first, mtime));
    out.push_back(Dir("by-tag", mtime));
  } else if (parts.size() == 1 && parts[0] == "snapshots") {
    for (const auto& [name, s] : snapshots_) out.push_back(Dir(name, s.record.time_unix * 1000000000LL));
  } else if (parts.size() == 1 && parts[0] == "by-tag") {
    for (const auto& [tag, names] : tags_) out.push_back(Dir(tag, mtime));
  } else if (parts.size() == 2 && parts[0] == "by-tag") {
    for (const std::string& name : tags_.at(parts[1])) out.push_back(Link(name, "../../snapshots/" + name, mtime));
  }
  return out;
}

Result<uint64_t> SnapshotFs::Open(const std::string& path) {
  QM_ASSIGN_OR_RETURN(Resolved r, Resolve(path));
  if (!r.in_snapshot || r.node.type != NodeType::kFile) return Status::InvalidArgument(path, "not a regular file");
  auto f = std::make_shared<OpenFile>();
  f->node = r.node;
  QM_RETURN_IF_ERROR(repo_->ExpandChunkList(&f->node));
  uint64_t at = 0;
  for (const ChunkRef& c : f->node.chunks) {
    f->offsets.push_back(at);
    at += c.raw_len;
  }
  if (at != f->node.size) return Status::Corruption(path, "chunk sizes do not add up to the file's size");
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t h = next_handle_++;
  open_[h] = std::move(f);
  return h;
}

void SnapshotFs::Release(uint64_t handle) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.erase(handle);
}

Result<std::shared_ptr<const Bytes>> SnapshotFs::LoadChunk(const Hash256& id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = chunks_.find(id);
    if (it != chunks_.end()) {
      chunk_lru_.splice(chunk_lru_.begin(), chunk_lru_, it->second.second);
      return it->second.first;
    }
  }
  auto data = std::make_shared<Bytes>();
  QM_RETURN_IF_ERROR(repo_->LoadBlob(id, data.get()));  // verified against its SHA-256
  std::shared_ptr<const Bytes> shared = data;
  std::lock_guard<std::mutex> lock(mu_);
  if (chunks_.count(id)) return shared;  // another thread loaded it meanwhile
  chunk_lru_.push_front(id);
  chunks_.emplace(id, std::make_pair(shared, chunk_lru_.begin()));
  chunk_bytes_ += shared->size();
  while (chunk_bytes_ > kChunkCacheBytes && chunk_lru_.size() > 1) {
    auto last = chunks_.find(chunk_lru_.back());
    chunk_bytes_ -= last->second.first->size();
    chunks_.erase(last);
    chunk_lru_.pop_back();
  }
  return shared;
}

Result<size_t> SnapshotFs::Read(uint64_t handle, uint64_t offset, size_t n, uint8_t* out) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(handle);
    if (it == open_.end()) return Status::InvalidArgument("read", "file is not open");
    f = it->second;
  }
  if (offset >= f->node.size || n == 0) return size_t{0};
  n = static_cast<size_t>(std::min<uint64_t>(n, f->node.size - offset));
  // The chunk holding `offset`, then onwards.
  size_t i =
      static_cast<size_t>(std::upper_bound(f->offsets.begin(), f->offsets.end(), offset) - f->offsets.begin()) - 1;
  size_t done = 0;
  while (done < n && i < f->node.chunks.size()) {
    QM_ASSIGN_OR_RETURN(auto chunk, LoadChunk(f->node.chunks[i].id));
    if (chunk->size() != f->node.chunks[i].raw_len)
      return Status::Corruption(f->node.name, "a chunk's size differs from the manifest");
    const uint64_t within = offset + done - f->offsets[i];
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n - done, chunk->size() - within));
    std::memcpy(out + done, chunk->data() + within, take);
    done += take;
    i++;
  }
  return done;
}

}  // namespace qm
