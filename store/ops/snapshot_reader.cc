#include "store/ops/snapshot_reader.h"

#include <memory>
#include <thread>

#include "core/path.h"

namespace qm {

Result<std::string> CleanSnapshotPath(std::string_view path) {
  std::string out;
  for (const std::string& part : SplitPath(path)) {
    if (part == "." || part == "..")
      return Status::InvalidArgument("path \"" + std::string(path) + "\"", "must not contain . or .. components");
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

Result<Node> LookupPath(Repository* repo, const Snapshot& snapshot, std::string_view path_in) {
  QM_ASSIGN_OR_RETURN(std::string path, CleanSnapshotPath(path_in));
  Node node;
  node.type = NodeType::kDir;
  node.mode = 0700;
  node.subtree = snapshot.record.root_tree;
  node.mtime_ns = snapshot.record.time_unix * 1000000000LL;
  std::string walked;  // the part of `path` resolved so far
  for (const std::string& name : SplitPath(path)) {
    if (node.type != NodeType::kDir)
      return Status::NotFound("\"" + path + "\" in snapshot " + snapshot.id.ShortHex(),
                              "\"" + walked + "\" is not a directory");
    QM_ASSIGN_OR_RETURN(Tree tree, repo->LoadTreeShallow(node.subtree));
    const Node* hit = nullptr;
    for (const Node& n : tree.nodes)
      if (n.name == name) hit = &n;
    if (hit == nullptr) return Status::NotFound("no \"" + path + "\" in snapshot " + snapshot.id.ShortHex());
    node = *hit;
    walked += (walked.empty() ? "" : "/") + name;
  }
  return node;
}

Status WalkTree(Repository* repo, const Hash256& tree_id, const std::string& prefix, bool recursive,
                const std::function<Status(const std::string& path, const Node& node)>& visit) {
  QM_ASSIGN_OR_RETURN(Tree tree, repo->LoadTreeShallow(tree_id));
  for (const Node& node : tree.nodes) {
    const std::string path = prefix.empty() ? node.name : prefix + "/" + node.name;
    QM_RETURN_IF_ERROR(visit(path, node));
    if (recursive && node.type == NodeType::kDir)
      QM_RETURN_IF_ERROR(WalkTree(repo, node.subtree, path, recursive, visit));
  }
  return Status::OK();
}

Status ReadFileContent(Repository* repo, const Node& file_in, const std::function<Status(ByteView)>& sink) {
  if (file_in.type != NodeType::kFile) return Status::InvalidArgument(file_in.name, "not a regular file");
  Node file = file_in;
  QM_RETURN_IF_ERROR(repo->ExpandChunkList(&file));
  if (ContentIdOf(file.chunks) != file.content_id)
    return Status::Corruption(file.name, "chunk list does not match the file's content id");
  uint64_t total = 0;
  for (const ChunkRef& c : file.chunks) total += c.raw_len;
  if (total != file.size) return Status::Corruption(file.name, "chunk sizes do not add up to the file's size");

  struct Window {
    size_t end = 0;
    std::vector<Bytes> chunks;
    Status status;
    std::thread loader;
  };
  auto start = [&](size_t begin) {
    auto w = std::make_unique<Window>();
    size_t end = begin;
    uint64_t bytes = 0;
    while (end < file.chunks.size() && end - begin < 1024 && bytes < (8u << 20)) bytes += file.chunks[end++].raw_len;
    w->end = end;
    Window* raw = w.get();
    raw->loader = std::thread([repo, raw, &file, begin, end] {
      std::vector<Hash256> ids;
      for (size_t i = begin; i < end; i++) ids.push_back(file.chunks[i].id);
      raw->status = repo->LoadBlobs(ids.data(), ids.size(), &raw->chunks);
    });
    return w;
  };
  Status s;
  size_t index = 0;
  std::unique_ptr<Window> cur = file.chunks.empty() ? nullptr : start(0);
  while (cur) {
    cur->loader.join();
    std::unique_ptr<Window> next = s.ok() && cur->end < file.chunks.size() ? start(cur->end) : nullptr;
    if (s.ok()) s = cur->status;
    for (const Bytes& c : cur->chunks) {
      if (!s.ok()) break;
      if (c.size() != file.chunks[index].raw_len) s = Status::Corruption(file.name, "a chunk's size differs");
      if (s.ok()) s = sink(c);
      index++;
    }
    if (!s.ok() && next) {
      next->loader.join();  // never leave a loader running
      next.reset();
    }
    cur = std::move(next);
  }
  return s;
}

}  // namespace qm
