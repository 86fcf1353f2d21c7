#include "store/ops/snapshot_reader.h"

#include <memory>
#include <thread>

#include "core/path.h"
#include "store/ops/chunk_loader.h"

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

Status ReadFileContent(Repository* repo, const Node& file, const std::function<Status(ByteView)>& sink) {
  if (file.type != NodeType::kFile) return Status::InvalidArgument(file.name, "not a regular file");
  // The list is read in pieces as the chunks load (ChunkLoader), so what
  // only the whole list proves (count, size, content id) is known at the
  // end: each run of chunks is handed over only once the next has loaded,
  // and the last only after those checks.
  ChunkLoader loader(repo, file, std::max(1u, std::thread::hardware_concurrency()));
  Bytes held, data;
  std::vector<uint32_t> held_sizes, sizes;
  auto hand_over = [&]() -> Status {
    size_t at = 0;
    for (uint32_t n : held_sizes) {
      QM_RETURN_IF_ERROR(sink(ByteView(held.data() + at, n)));
      at += n;
    }
    held_sizes.clear();
    return Status::OK();
  };
  // The loader checks each chunk against the list, and the whole list on
  // the call that finds no more (Corruption then, not false).
  while (true) {
    QM_ASSIGN_OR_RETURN(bool more, loader.Next(&data, &sizes));
    if (!more) break;
    QM_RETURN_IF_ERROR(hand_over());
    std::swap(held, data);
    std::swap(held_sizes, sizes);
  }
  return hand_over();
}

}  // namespace qm
