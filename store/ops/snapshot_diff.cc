#include "store/ops/snapshot_diff.h"

#include <map>
#include <unordered_set>

#include "store/ops/snapshot_reader.h"

namespace qm {
namespace {

class Differ {
 public:
  Differ(Repository* repo, const DiffOptions& opt) : repo_(repo), opt_(opt) {}

  Status Trees(const Hash256& a, const Hash256& b, const std::string& prefix) {
    if (a == b) return Status::OK();
    QM_ASSIGN_OR_RETURN(Tree ta, repo_->LoadTreeShallow(a));
    QM_ASSIGN_OR_RETURN(Tree tb, repo_->LoadTreeShallow(b));
    std::map<std::string, std::pair<const Node*, const Node*>> all;  // name -> (in a, in b)
    for (const Node& n : ta.nodes) all[n.name].first = &n;
    for (const Node& n : tb.nodes) all[n.name].second = &n;
    for (auto& [name, pair] : all) {
      const std::string path = prefix.empty() ? name : prefix + "/" + name;
      QM_RETURN_IF_ERROR(Entry(path, pair.first, pair.second));
    }
    return Status::OK();
  }

  std::vector<PathChange> changes;

 private:
  // `n` at `path`, and everything below it, added or removed as a whole.
  Status Whole(PathChange::Kind kind, const std::string& path, const Node& n) {
    auto record = [&](const std::string& p, const Node& node) {
      PathChange c;
      c.kind = kind;
      c.path = p;
      c.type = node.type;
      (kind == PathChange::Kind::kAdded ? c.size_after : c.size_before) = node.size;
      c.database = DatabaseCaptureOf(node).has_value();
      changes.push_back(std::move(c));
      return Status::OK();
    };
    QM_RETURN_IF_ERROR(record(path, n));
    if (n.type != NodeType::kDir) return Status::OK();
    return WalkTree(repo_, n.subtree, path, true, record);
  }

  Status Entry(const std::string& path, const Node* a, const Node* b) {
    if (a == nullptr) return Whole(PathChange::Kind::kAdded, path, *b);
    if (b == nullptr) return Whole(PathChange::Kind::kRemoved, path, *a);
    if (a->type != b->type) {
      QM_RETURN_IF_ERROR(Whole(PathChange::Kind::kRemoved, path, *a));
      return Whole(PathChange::Kind::kAdded, path, *b);
    }
    if (a->type == NodeType::kDir) return Trees(a->subtree, b->subtree, path);
    if (a->type == NodeType::kSymlink) {
      if (a->link_target != b->link_target) {
        PathChange c;
        c.path = path;
        c.type = NodeType::kSymlink;
        changes.push_back(std::move(c));
      }
      return Status::OK();
    }
    if (a->content_id == b->content_id && a->size == b->size) return Status::OK();
    PathChange c;
    c.kind = PathChange::Kind::kModified;
    c.path = path;
    c.size_before = a->size;
    c.size_after = b->size;
    auto db_b = DatabaseCaptureOf(*b);
    c.database = db_b.has_value();
    if (c.database) QM_RETURN_IF_ERROR(Database(*a, *b, *db_b, &c));
    changes.push_back(std::move(c));
    return Status::OK();
  }

  Status Database(const Node& a_in, const Node& b_in, const SqliteCaptureExt& ext, PathChange* c) {
    Node a = a_in, b = b_in;
    QM_RETURN_IF_ERROR(repo_->ExpandChunkList(&a));
    QM_RETURN_IF_ERROR(repo_->ExpandChunkList(&b));
    std::unordered_set<Hash256, Hash256Hasher> old_ids;
    for (const ChunkRef& r : a.chunks) old_ids.insert(r.id);
    uint64_t bytes = 0;
    for (const ChunkRef& r : b.chunks)
      if (!old_ids.count(r.id)) bytes += r.raw_len;
    c->page_size = ext.page_size;
    c->pages_changed = ext.page_size ? (bytes + ext.page_size - 1) / ext.page_size : 0;
    if (!opt_.with_tables) return Status::OK();
    QM_ASSIGN_OR_RETURN(DatabaseSummary before, InspectDatabase(repo_, a, opt_.tmp_dir));
    QM_ASSIGN_OR_RETURN(DatabaseSummary after, InspectDatabase(repo_, b, opt_.tmp_dir));
    std::map<std::string, std::pair<const TableSummary*, const TableSummary*>> tables;
    for (const TableSummary& t : before.tables) tables[t.name].first = &t;
    for (const TableSummary& t : after.tables) tables[t.name].second = &t;
    for (auto& [name, pair] : tables) {
      TableChange t;
      t.name = name;
      t.rows_before = pair.first ? static_cast<int64_t>(pair.first->rows) : -1;
      t.rows_after = pair.second ? static_cast<int64_t>(pair.second->rows) : -1;
      t.schema_changed = pair.first && pair.second && pair.first->sql != pair.second->sql;
      if (t.rows_before != t.rows_after || t.schema_changed) c->tables.push_back(std::move(t));
    }
    return Status::OK();
  }

  Repository* repo_;
  const DiffOptions& opt_;
};

}  // namespace

Result<std::vector<PathChange>> DiffSnapshots(Repository* repo, const Snapshot& a, const Snapshot& b,
                                              const DiffOptions& options) {
  Differ d(repo, options);
  QM_RETURN_IF_ERROR(d.Trees(a.record.root_tree, b.record.root_tree, ""));
  return std::move(d.changes);
}

}  // namespace qm
