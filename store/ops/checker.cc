#include "store/ops/checker.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/time_format.h"
#include "core/tree.h"

namespace qm {
namespace {

constexpr size_t kMaxMessagesPerKind = 20;

struct BlobHome {
  Hash256 pack;
  PackEntry entry;
};

class Checker {
 public:
  Checker(Repository* repo, const CheckOptions& opt) : repo_(repo), opt_(opt) {}
  Result<CheckReport> Run();

 private:
  void Error(const std::string& kind, const std::string& msg) {
    size_t& n = counts_[kind];
    if (++n <= kMaxMessagesPerKind) report_.errors.push_back(msg);
  }
  Status CheckPacks();
  Status CheckIndex();
  // True when the tree (or anything below it) is damaged.
  bool CheckTree(const Hash256& id, const std::string& path, const std::string& snap);
  // Problem with one referenced blob, or empty.
  std::string BlobProblem(const Hash256& id);

  Repository* repo_;
  const CheckOptions& opt_;
  CheckReport report_;
  std::map<std::string, size_t> counts_;
  std::unordered_map<Hash256, BlobHome, Hash256Hasher> homes_;
  std::unordered_set<Hash256, Hash256Hasher> bad_blobs_;
  std::unordered_set<Hash256, Hash256Hasher> referenced_;
  std::unordered_map<Hash256, bool, Hash256Hasher> tree_damaged_;
  std::vector<Hash256> packs_;
};

Status Checker::CheckPacks() {
  QM_ASSIGN_OR_RETURN(packs_, repo_->ListPacksOnDisk());
  std::sort(packs_.begin(), packs_.end());
  report_.packs = packs_.size();
  for (const Hash256& p : packs_) {
    auto reader = repo_->OpenPack(p);
    if (!reader.ok()) {
      Error("pack", "pack " + p.ShortHex() + " cannot be opened: " + reader.status().message());
      continue;
    }
    auto toc = (*reader)->ReadToc();
    if (!toc.ok()) {
      Error("pack", toc.status().message());
      continue;
    }
    for (const PackEntry& e : *toc) homes_.try_emplace(e.id, BlobHome{p, e});
    if (!opt_.read_data) continue;
    auto bad = (*reader)->VerifyAll();
    if (!bad.ok()) {
      Error("pack-data", bad.status().message());
      for (const PackEntry& e : *toc) bad_blobs_.insert(e.id);
      continue;
    }
    report_.blobs_verified += toc->size() - bad->size();
    for (const PackEntry& e : *bad) {
      bad_blobs_.insert(e.id);
      Error("pack-data", "pack " + p.ShortHex() + ": blob " + e.id.ShortHex() +
                             " does not decompress to its hash (the pack file is damaged)");
    }
  }
  return Status::OK();
}

Status Checker::CheckIndex() {
  QM_ASSIGN_OR_RETURN(ChunkIndex * index, repo_->index());
  QM_ASSIGN_OR_RETURN(auto indexed, index->ListPacks());
  for (const Hash256& p : indexed) {
    if (!std::binary_search(packs_.begin(), packs_.end(), p)) {
      Error("index", "the chunk index lists pack " + p.ShortHex() + ", which is not in the repository");
    }
  }
  return Status::OK();
}

std::string Checker::BlobProblem(const Hash256& id) {
  auto home = homes_.find(id);
  if (home == homes_.end()) return "is missing from every pack";
  if (bad_blobs_.count(id)) return "is damaged in pack " + home->second.pack.ShortHex();
  auto index = repo_->index();
  if (!index.ok()) return "cannot be looked up in the index: " + index.status().message();
  auto loc = (*index)->Lookup(id);
  if (!loc.ok()) return "cannot be looked up in the index: " + loc.status().message();
  if (!loc->has_value()) return "is in pack " + home->second.pack.ShortHex() + " but not in the chunk index";
  auto alt = homes_.find(id);
  const BlobLocation& l = **loc;
  if (l.pack != alt->second.pack || l.offset != alt->second.entry.offset ||
      l.raw_offset != alt->second.entry.raw_offset) {
    // Another pack may legitimately hold a duplicate; verify against its TOC.
    auto reader = repo_->OpenPack(l.pack);
    if (!reader.ok()) return "is indexed in pack " + l.pack.ShortHex() + ", which cannot be opened";
    auto toc = (*reader)->ReadToc();
    bool match = toc.ok() && std::any_of(toc->begin(), toc->end(), [&](const PackEntry& e) {
                   return e.id == id && e.offset == l.offset && e.stored_len == l.stored_len &&
                          e.raw_offset == l.raw_offset && e.frame_raw_len == l.frame_raw_len;
                 });
    if (!match) return "has an index entry that does not match pack " + l.pack.ShortHex();
  }
  return "";
}

bool Checker::CheckTree(const Hash256& id, const std::string& path, const std::string& snap) {
  auto memo = tree_damaged_.find(id);
  if (memo != tree_damaged_.end()) return memo->second;
  report_.trees++;
  referenced_.insert(id);
  const std::string where = path.empty() ? "/" : path;
  std::string problem = BlobProblem(id);
  if (!problem.empty()) {
    Error("tree", "snapshot " + snap + ": directory " + where + ": tree " + id.ShortHex() + " " + problem);
    tree_damaged_[id] = true;
    return true;
  }
  auto tree = repo_->LoadTree(id);
  if (!tree.ok()) {
    Error("tree", "snapshot " + snap + ": directory " + where + ": " + tree.status().message());
    tree_damaged_[id] = true;
    return true;
  }
  bool damaged = false;
  for (const Node& n : tree->nodes) {
    const std::string child = path.empty() ? n.name : path + "/" + n.name;
    if (n.type == NodeType::kDir) {
      damaged |= CheckTree(n.subtree, child, snap);
    } else if (n.type == NodeType::kFile) {
      // Loaded (so present) by LoadTree, with the blocks an index names.
      for (const Hash256& b : n.list_blocks) referenced_.insert(b);
      if (n.list_indexed) {
        std::vector<ChunkListLeaf> leaves;
        Status st = repo_->LoadChunkListLeaves(n, 0, n.list_blocks.size(), &leaves);
        if (!st.ok()) {
          Error("file", "snapshot " + snap + ": " + child + ": " + st.message());
          damaged = true;
        }
        for (const ChunkListLeaf& l : leaves) referenced_.insert(l.id);
      }
      uint64_t sum = 0;
      for (const ChunkRef& c : n.chunks) sum += c.raw_len;
      if (sum != n.size || ContentIdOf(n.chunks) != n.content_id) {
        Error("file", "snapshot " + snap + ": " + child + ": chunk list does not add up to the recorded size/content");
        damaged = true;
      }
      for (const ChunkRef& c : n.chunks) {
        if (referenced_.insert(c.id).second) report_.chunks_referenced++;
        std::string p = BlobProblem(c.id);
        if (!p.empty()) {
          Error("chunk", "snapshot " + snap + ": " + child + ": chunk " + c.id.ShortHex() + " " + p);
          damaged = true;
        }
      }
    }
  }
  tree_damaged_[id] = damaged;
  return damaged;
}

Result<CheckReport> Checker::Run() {
  QM_RETURN_IF_ERROR(CheckPacks());
  QM_RETURN_IF_ERROR(CheckIndex());

  Env* env = repo_->env();
  QM_ASSIGN_OR_RETURN(auto names, env->GetChildren(repo_->layout().SnapshotsDir()));
  std::sort(names.begin(), names.end());
  size_t temporaries = 0;
  for (const auto& name : names) {
    auto id = RepoLayout::ParseSnapshotFileName(name);
    if (!id) {
      ++temporaries;
      continue;
    }
    report_.snapshots++;
    auto rec = repo_->LoadSnapshot(*id);
    if (!rec.ok()) {
      Error("snapshot", rec.status().message());
      report_.damaged_snapshots.push_back(*id);
      continue;
    }
    const std::string label = id->ShortHex() + " (" + FormatTimeIso(rec->time_unix) + ")";
    if (CheckTree(rec->root_tree, "", label)) {
      report_.damaged_snapshots.push_back(*id);
      report_.errors.push_back("snapshot " + label + " is damaged and cannot be fully restored");
    }
  }
  for (const auto& [kind, n] : counts_) {
    if (n > kMaxMessagesPerKind) {
      report_.errors.push_back("… and " + std::to_string(n - kMaxMessagesPerKind) + " more " + kind + " problems");
    }
  }

  size_t unreferenced = 0;
  std::unordered_set<Hash256, Hash256Hasher> used_packs;
  for (const auto& [id, home] : homes_) {
    if (referenced_.count(id)) used_packs.insert(home.pack);
  }
  for (const Hash256& p : packs_) unreferenced += used_packs.count(p) ? 0 : 1;
  if (unreferenced > 0) {
    report_.notes.push_back(std::to_string(unreferenced) +
                            " pack(s) are not referenced by any snapshot (left by an interrupted backup; harmless)");
  }
  if (temporaries > 0) {
    report_.notes.push_back(std::to_string(temporaries) +
                            " temporary file(s) in snapshots/ from an interrupted commit (removed by the next backup)");
  }
  auto tmp = env->GetChildren(repo_->layout().TmpDir());
  if (tmp.ok() && !tmp->empty()) {
    report_.notes.push_back(std::to_string(tmp->size()) +
                            " unfinished pack(s) in tmp/ (a backup is running or was interrupted)");
  }
  return report_;
}

}  // namespace

Result<CheckReport> Check(Repository* repo, const CheckOptions& options, ProgressSink* progress) {
  (void)progress;
  Checker checker(repo, options);
  return checker.Run();
}

}  // namespace qm
