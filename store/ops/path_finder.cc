#include "store/ops/path_finder.h"

#include <map>

#include "core/path.h"

namespace qm {
namespace {

struct Match {
  std::string path;
  NodeType type;
  uint64_t size;
  int64_t mtime_ns;
};

class Finder {
 public:
  Finder(Repository* repo, const std::string& pattern) : repo_(repo), pattern_(pattern) {}

  // Matches below `tree`, which sits at `prefix`. Memoised by (prefix,
  // tree): hourly snapshots share most of their directories.
  Result<const std::vector<Match>*> In(const Hash256& tree, const std::string& prefix) {
    const std::string key = prefix + '\0' + tree.Hex();
    auto hit = memo_.find(key);
    if (hit != memo_.end()) return &hit->second;
    QM_ASSIGN_OR_RETURN(Tree t, repo_->LoadTreeShallow(tree));
    std::vector<Match> out;
    for (const Node& n : t.nodes) {
      const std::string path = prefix.empty() ? n.name : prefix + "/" + n.name;
      if (GlobMatchesPathOrName(pattern_, path)) out.push_back({path, n.type, n.size, n.mtime_ns});
      if (n.type != NodeType::kDir) continue;
      QM_ASSIGN_OR_RETURN(const std::vector<Match>* below, In(n.subtree, path));
      out.insert(out.end(), below->begin(), below->end());
    }
    return &memo_.emplace(key, std::move(out)).first->second;
  }

 private:
  Repository* repo_;
  const std::string& pattern_;
  std::map<std::string, std::vector<Match>> memo_;
};

}  // namespace

Result<std::vector<FoundPath>> FindPaths(Repository* repo, const std::string& pattern) {
  QM_ASSIGN_OR_RETURN(auto snaps, repo->ListSnapshots());
  Finder finder(repo, pattern);
  std::vector<FoundPath> found;
  for (const Snapshot& s : snaps) {
    QM_ASSIGN_OR_RETURN(const std::vector<Match>* matches, finder.In(s.record.root_tree, ""));
    for (const Match& m : *matches) found.push_back({s, m.path, m.type, m.size, m.mtime_ns});
  }
  return found;
}

}  // namespace qm
