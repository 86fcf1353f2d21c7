#include "store/ops/archiver.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_set>

#include "core/cache_record.h"
#include "core/chunk_list.h"
#include "core/fastcdc_chunker.h"
#include "core/page_chunker.h"
#include "core/page_fingerprints.h"
#include "core/parent_trees.h"
#include "core/path.h"
#include "core/sqlite_extension.h"
#include "core/tree.h"
#include "store/ops/chunk_pipeline.h"
#include "store/ops/database_inspector.h"
#include "store/ops/fingerprint_file.h"
#include "store/ops/sqlite_source.h"
#include "store/repo/chunk_list_writer.h"

namespace qm {
namespace {

constexpr int64_t kDaySeconds = 24 * 3600;

const std::vector<std::string> kDatabasePaths = {"data/quantmesh.db", "data/auth.db", "data/webauthn.db", "logs.db"};

// A directory of the snapshot under construction.
struct DirBuild {
  FileInfo info;
  std::map<std::string, Node> entries;                    // files and symlinks
  std::map<std::string, std::unique_ptr<DirBuild>> dirs;  // subdirectories
};

// Relative, inside the source, no "." or ".." components.
bool IsCleanRelative(const std::string& rel) {
  if (rel.empty() || rel[0] == '/') return false;
  for (const auto& part : SplitPath(rel)) {
    if (part == "." || part == "..") return false;
  }
  return true;
}

std::string NormalizeRelative(const std::string& rel) {
  std::string out;
  for (const auto& part : SplitPath(rel)) out += (out.empty() ? "" : "/") + part;
  return out;
}

Node NodeFromInfo(const std::string& name, NodeType type, const FileInfo& info) {
  Node n;
  n.name = name;
  n.type = type;
  n.mode = info.mode;
  n.uid = info.uid;
  n.gid = info.gid;
  n.mtime_ns = info.mtime_ns;
  n.ctime_ns = info.ctime_ns;
  n.inode = info.inode;
  n.dev = info.dev;
  return n;
}

// Gives `n` the content of `prev` (a file proven unchanged since the parent):
// its size, chunk list in whichever layout, content id and extensions; the
// metadata stays `n`'s own.
void ReuseContent(const Node& prev, Node* n) {
  n->size = prev.size;
  n->chunks = prev.chunks;
  n->list_blocks = prev.list_blocks;
  n->list_indexed = prev.list_indexed;
  n->list_chunk_count = prev.list_chunk_count;
  n->content_id = prev.content_id;
  n->extensions = prev.extensions;
}

FileStamp StampOf(const FileInfo& info) {
  return FileStamp{info.size, info.mtime_ns, info.ctime_ns, info.inode};
}

// What of a -wal's stats speaks for its content. Absent and empty are the
// same (no committed frame; our own read-only connection creates an empty
// -wal where there was none). The ctime is left out: SQLite running as root
// fchown()s the -wal to the database's owner each time it opens it, so every
// backup run as root bumps it, while every frame written changes the size or
// the mtime.
std::optional<FileStamp> WalContentStamp(std::optional<FileStamp> wal) {
  if (!wal || wal->size == 0) return std::nullopt;
  wal->ctime_ns = 0;
  return wal;
}

bool HasSuffix(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A database whose read transaction is open, waiting to be copied.
struct OpenDatabase {
  FileInfo main;  // stat()ed before the transaction began
  std::optional<FileInfo> wal;
  int64_t stamped_at_ns = 0;
  bool check = true;          // run quick_check on this capture (Archiver::NeedsCheck)
  int64_t last_check_ns = 0;  // the parent capture's newest passing check
  std::unique_ptr<SqliteSource> source;
  std::optional<Node> reused;  // proven unchanged since the parent
};

class Archiver {
 public:
  Archiver(Repository* repo, const BackupOptions& opt, ProgressSink* progress)
      : repo_(repo),
        env_(repo->env()),
        opt_(opt),
        progress_(progress),
        chunker_(repo->config().chunker),
        pipeline_(repo, opt.threads, ChunkPipeline::InflightBudgetFor(repo->config().chunker.max_size)) {}

  Result<BackupResult> Run();

 private:
  void Warn(const std::string& msg) {
    result_.warnings.push_back(msg);
    if (progress_) progress_->Warning(msg);
  }
  void ItemError(const std::string& rel, const Status& s) {
    result_.errors.push_back({rel, s});
    if (progress_) progress_->ItemError(rel, s);
  }
  bool Excluded(const std::string& rel) const;
  const std::string& SourceLabel() const { return opt_.record_source ? *opt_.record_source : opt_.source; }
  std::string Abs(const std::string& rel) const { return rel.empty() ? opt_.source : opt_.source + "/" + rel; }

  // Adds `rel` (file, symlink or directory, recursively). `required` items
  // that are missing are errors; others are warnings (or silent when `quiet`).
  Status AddPath(const std::string& rel, bool required, bool quiet, bool logs_filter);
  Status AddDirectory(const std::string& rel, const FileInfo& info, bool logs_filter);
  Status AddEntry(const std::string& rel, const FileInfo& info);
  // Store errors are returned; source read errors are recorded as item errors
  // and reported with *stored = false.
  Status StoreFile(const std::string& rel, const FileInfo& info, Node* node, bool* stored);
  Result<DirBuild*> EnsureDir(const std::string& rel_dir);
  // `rel`'s node in `snap` (the parent by default), shallow: a file whose
  // chunk list is in blocks comes back with list_blocks and no chunks.
  // The parent snapshot's node at `rel`, or nullptr. The node lives in
  // parent_trees_ for the whole run: callers copy only what they keep.
  Result<const Node*> ParentNode(const std::string& rel, const Snapshot* snap = nullptr);
  // The key of `snap`'s tree of directory `dir` ("" for the root) in
  // parent_trees_.
  static std::string ParentTreeSlot(const Snapshot& snap, const std::string& dir) { return snap.id.Hex() + "/" + dir; }
  // A tree of a parent: from its cache file when there (and it hashes to
  // `id`), else from the store.
  Result<Tree> LoadParentTree(const Hash256& id);
  // The cache file of the set `record` belongs to (core/parent_trees.h).
  Hash256 ParentTreesKey(const SnapshotRecord& record) const;
  // Reads `snap`'s trees when its set's cache file holds them (same root
  // tree), and trusts its chunks to be in the store when no pack was added
  // or removed since such a snapshot was committed. Never fails: a missing,
  // torn or stale file only means the store is asked instead.
  void LoadCachedParent(const Snapshot& snap);
  // After the commit: this snapshot's trees for the next backup of its set.
  void SaveCachedParent();
  // Whether every chunk of `prev` (a node of `snap`) is still in the store,
  // so the node may be reused: a lost pack must never be silently referenced.
  Result<bool> ChunksPresent(const Snapshot& snap, const Node& prev);
  // Whether all of `snap`'s chunks are known to be in the store (cached per
  // snapshot); false means "check chunk by chunk".
  Result<bool> SnapshotStillIndexed(const Snapshot& snap);
  // Stores the tree of `dir` (at `rel`, "" for the root) and its subtrees.
  Result<Hash256> WriteTree(DirBuild* dir, const std::string& rel);
  // When `tree` equals the trusted parent's tree at `rel`, that tree's id and
  // bytes (hash-checked, from the cache file): it need not be encoded,
  // hashed or stored again.
  std::optional<std::pair<Hash256, ByteView>> SameAsParentTree(const std::string& rel, const Tree& tree);
  // SQLite databases: the header decides, not the name.
  Result<bool> IsSqlite(const std::string& rel);
  // Stats `rel` and its -wal, then, unless those prove it unchanged since
  // the parent (CheckUnchanged), begins its read transaction. Errors are
  // item errors (the rest of the snapshot goes on); *opened false then.
  Status OpenDatabaseAt(const std::string& rel, const FileInfo& info, bool* opened);
  Status CheckUnchanged(const Node* prev, const std::optional<SqliteCaptureExt>& old, OpenDatabase* db);
  bool NeedsCheck(const std::optional<SqliteCaptureExt>& old, int64_t now_ns) const;
  Status StoreDatabase(const std::string& rel, OpenDatabase* db, Node* node, bool* stored);
  Hash256 FingerprintKey(const std::string& rel) const;
  // The parent capture's fingerprints, when the cache holds them for
  // exactly that capture and its chunks are all still stored; otherwise
  // nullptr (every chunk is then hashed). A store error there means the
  // same: the chunks are then hashed and looked up like new ones. With a
  // record, *parent_list walks the parent's chunk list, so that the new
  // list's unchanged blocks are not looked up: the parent's tree
  // (parent_trees_) outlives the capture.
  std::unique_ptr<FingerprintFileReader> OpenParentFingerprints(const std::string& rel, uint32_t page_size,
                                                                std::optional<ParentList>* parent_list);

  Repository* repo_;
  Env* env_;
  const BackupOptions& opt_;
  ProgressSink* progress_;
  FastCdcChunker chunker_;
  ChunkPipeline pipeline_;  // every data chunk goes through it
  int64_t snapshot_time_ = 0;
  BackupResult result_;
  SnapshotTotals totals_;
  DirBuild root_;
  std::optional<Snapshot> parent_;
  // Databases are in every snapshot (hourly --dbs-only and full alike), so
  // they compare with the latest snapshot of the source, whatever its set.
  std::optional<Snapshot> db_parent_;
  std::map<std::string, std::optional<Tree>> parent_trees_;  // by ParentTreeSlot
  std::map<Hash256, bool> still_indexed_;                    // SnapshotStillIndexed, per snapshot
  // Parent trees from the cache, by snapshot id; the trusted ones had the
  // packs stamp of packs/ as it is now (packs_stamp_), so their chunks and
  // trees (stored_trees_: those loaded, checked by hash) are in the store
  // without asking the index.
  std::map<Hash256, Bytes> cached_files_;          // the cache files read, by snapshot id
  std::map<Hash256, ParentTrees> cached_parents_;  // decoded: views into cached_files_
  std::set<Hash256> trusted_parents_;
  std::optional<Hash256> packs_stamp_;
  std::unordered_set<Hash256, Hash256Hasher> stored_trees_;
  std::map<Hash256, ByteView> verified_trees_;               // cached trees that hashed to their id
  std::vector<std::pair<Hash256, ByteView>> written_trees_;  // this snapshot's, for its cache file
  std::deque<Bytes> encoded_trees_;                          // what written_trees_ views, when not cached
  Bytes buf_;
  std::map<std::string, OpenDatabase> databases_;  // by relative path
  std::set<std::string> failed_databases_;         // could not be opened: already reported
};

bool Archiver::Excluded(const std::string& rel) const {
  for (const auto& pattern : opt_.excludes)
    if (GlobMatchesPathOrName(pattern, rel)) return true;
  return false;
}

Result<DirBuild*> Archiver::EnsureDir(const std::string& rel_dir) {
  DirBuild* dir = &root_;
  std::string path;
  for (const auto& part : SplitPath(rel_dir)) {
    path += (path.empty() ? "" : "/") + part;
    auto it = dir->dirs.find(part);
    if (it == dir->dirs.end()) {
      auto info = env_->Stat(Abs(path));
      if (!info.ok()) return info.status();
      auto child = std::make_unique<DirBuild>();
      child->info = *info;
      it = dir->dirs.emplace(part, std::move(child)).first;
    }
    dir = it->second.get();
  }
  return dir;
}

Result<const Node*> Archiver::ParentNode(const std::string& rel, const Snapshot* snap) {
  if (snap == nullptr) snap = parent_ ? &*parent_ : nullptr;
  if (snap == nullptr || opt_.force_read) return static_cast<const Node*>(nullptr);
  const size_t slash = rel.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash);
  const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  const std::string key = ParentTreeSlot(*snap, dir);
  auto it = parent_trees_.find(key);
  if (it == parent_trees_.end()) {
    std::optional<Tree> tree;
    if (dir.empty()) {
      QM_ASSIGN_OR_RETURN(Tree t, LoadParentTree(snap->record.root_tree));
      tree = std::move(t);
    } else {
      QM_ASSIGN_OR_RETURN(const Node* up, ParentNode(dir, snap));
      if (up != nullptr && up->type == NodeType::kDir) {
        QM_ASSIGN_OR_RETURN(Tree t, LoadParentTree(up->subtree));
        tree = std::move(t);
      }
    }
    it = parent_trees_.emplace(key, std::move(tree)).first;
  }
  if (!it->second) return static_cast<const Node*>(nullptr);
  for (const Node& n : it->second->nodes) {
    if (n.name == name) return &n;
  }
  return static_cast<const Node*>(nullptr);
}

Result<Tree> Archiver::LoadParentTree(const Hash256& id) {
  for (const auto& [snap, cached] : cached_parents_) {
    for (const auto& [tree_id, bytes] : cached.trees) {
      if (tree_id != id || Sha256(bytes) != id) continue;
      auto tree = DecodeTree(bytes);
      if (!tree.ok()) continue;
      verified_trees_.emplace(id, bytes);
      // A trusted parent's tree, as it hashes, is in the store, and so is
      // every tree it names (its snapshot was whole and no pack went since),
      // even one never loaded here (an empty logs/, say).
      if (trusted_parents_.count(snap)) {
        stored_trees_.insert(id);
        for (const Node& n : tree->nodes)
          if (n.type == NodeType::kDir) stored_trees_.insert(n.subtree);
      }
      return tree;
    }
  }
  return repo_->LoadTreeShallow(id);
}

Hash256 Archiver::ParentTreesKey(const SnapshotRecord& record) const {
  const bool dbs_only = (record.flags & kSnapshotDbsOnly) != 0;
  return CacheKey({"parent-trees", record.source, record.hostname, dbs_only ? "dbs-only" : "full"});
}

void Archiver::LoadCachedParent(const Snapshot& snap) {
  if (opt_.force_read || cached_parents_.count(snap.id)) return;
  auto bytes = repo_->GetCacheRecord(ParentTreesKey(snap.record));
  if (!bytes.ok() || !*bytes) return;
  Bytes& file = cached_files_[snap.id] = std::move(**bytes);
  auto cached = DecodeParentTrees(file);
  if (!cached.ok() || cached->root_tree != snap.record.root_tree) return;
  if (!packs_stamp_) {
    auto stamp = repo_->PacksStamp();
    if (!stamp.ok()) return;
    packs_stamp_ = *stamp;
  }
  if (cached->packs_stamp == *packs_stamp_) trusted_parents_.insert(snap.id);
  cached_parents_.emplace(snap.id, std::move(cached).value());
}

void Archiver::SaveCachedParent() {
  ParentTrees pt;
  pt.root_tree = result_.record.root_tree;
  if (repo_->index_opened()) {
    // Reconciled at its opening and holding every pack this run sealed: the
    // packs on disk now are exactly the indexed ones.
    auto stamp = repo_->PacksStamp();
    if (!stamp.ok()) return;
    pt.packs_stamp = *stamp;
  } else {
    // Nothing was stored, so every chunk came from trusted parents: packs/
    // is as it was when they were committed.
    if (!packs_stamp_ || trusted_parents_.empty()) return;
    pt.packs_stamp = *packs_stamp_;
  }
  // The file of this set already says exactly this (nothing changed since
  // the parent of the same set): leave it.
  if (parent_ && ParentTreesKey(parent_->record) == ParentTreesKey(result_.record)) {
    auto same = cached_parents_.find(parent_->id);
    if (same != cached_parents_.end() && same->second.root_tree == pt.root_tree &&
        same->second.packs_stamp == pt.packs_stamp)
      return;
  }
  pt.trees = std::move(written_trees_);
  repo_->PutCacheRecord(ParentTreesKey(result_.record), EncodeParentTrees(pt)).IgnoreError();
}

Result<bool> Archiver::SnapshotStillIndexed(const Snapshot& snap) {
  if (trusted_parents_.count(snap.id)) return true;
  auto known = still_indexed_.find(snap.id);
  if (known == still_indexed_.end()) {
    // A snapshot committed without the index (nothing had changed) has no
    // mark there: its chunks are then checked one by one. (A removal count
    // kept beside it would not survive the index being rebuilt.)
    QM_ASSIGN_OR_RETURN(bool indexed, repo_->SnapshotChunksStillIndexed(snap.id));
    known = still_indexed_.emplace(snap.id, indexed).first;
  }
  return known->second;
}

Result<bool> Archiver::ChunksPresent(const Snapshot& snap, const Node& prev) {
  QM_ASSIGN_OR_RETURN(bool indexed, SnapshotStillIndexed(snap));
  if (indexed) return true;
  Node full = prev;
  QM_RETURN_IF_ERROR(repo_->ExpandChunkList(&full));
  for (const ChunkRef& c : full.chunks) {
    QM_ASSIGN_OR_RETURN(bool has, repo_->HasBlob(c.id));
    if (!has) return false;
  }
  return true;
}

Status Archiver::AddPath(const std::string& rel, bool required, bool quiet, bool logs_filter) {
  if (Excluded(rel)) return Status::OK();
  auto info = env_->Stat(Abs(rel));
  if (!info.ok()) {
    if (info.status().IsNotFound()) {
      if (required) {
        ItemError(rel, Status::NotFound(Abs(rel), "no such file or directory"));
      } else if (!quiet) {
        Warn(rel + " is not in the source directory; skipped");
      }
      return Status::OK();
    }
    ItemError(rel, info.status());
    return Status::OK();
  }
  if (info->type == FileType::kDirectory) return AddDirectory(rel, *info, logs_filter);
  return AddEntry(rel, *info);
}

Status Archiver::AddDirectory(const std::string& rel, const FileInfo& info, bool logs_filter) {
  (void)info;
  auto dir = EnsureDir(rel);
  if (!dir.ok()) {
    ItemError(rel, dir.status());
    return Status::OK();
  }
  auto children = env_->GetChildren(Abs(rel));
  if (!children.ok()) {
    ItemError(rel, children.status());
    return Status::OK();
  }
  std::sort(children->begin(), children->end());
  for (const auto& name : *children) {
    const std::string child = rel + "/" + name;
    if (Excluded(child)) continue;
    auto cinfo = env_->Stat(Abs(child));
    if (!cinfo.ok()) {
      if (!cinfo.status().IsNotFound()) ItemError(child, cinfo.status());
      continue;  // vanished while listing: nothing to take
    }
    if (cinfo->type == FileType::kDirectory) {
      QM_RETURN_IF_ERROR(AddDirectory(child, *cinfo, logs_filter));
      continue;
    }
    if (logs_filter && cinfo->mtime_ns / 1000000000 < snapshot_time_ - opt_.log_days * kDaySeconds) continue;
    QM_RETURN_IF_ERROR(AddEntry(child, *cinfo));
  }
  return Status::OK();
}

Status Archiver::AddEntry(const std::string& rel, const FileInfo& info) {
  const size_t slash = rel.rfind('/');
  const std::string dir_rel = slash == std::string::npos ? "" : rel.substr(0, slash);
  const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  auto dir = EnsureDir(dir_rel);
  if (!dir.ok()) {
    ItemError(rel, dir.status());
    return Status::OK();
  }
  if ((*dir)->entries.count(name)) return Status::OK();  // named twice (an extra path inside the default set)
  if (info.type == FileType::kSymlink) {
    auto target = env_->ReadLink(Abs(rel));
    if (!target.ok()) {
      ItemError(rel, target.status());
      return Status::OK();
    }
    Node n = NodeFromInfo(name, NodeType::kSymlink, info);
    n.link_target = *target;
    (*dir)->entries.emplace(name, std::move(n));
    return Status::OK();
  }
  if (info.type != FileType::kRegular) {
    Warn(rel + " is not a regular file, directory or symlink; skipped");
    return Status::OK();
  }
  // A database's -wal, -shm and -journal are read through SQLite with it.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    if (!HasSuffix(rel, suffix)) continue;
    const std::string base = rel.substr(0, rel.size() - std::strlen(suffix));
    if (databases_.count(base)) return Status::OK();
    auto is_db = IsSqlite(base);
    if (is_db.ok() && *is_db) return Status::OK();
  }
  if (failed_databases_.count(rel)) return Status::OK();
  Node node = NodeFromInfo(name, NodeType::kFile, info);
  bool stored = false;
  auto db = databases_.find(rel);
  if (db == databases_.end()) {
    auto is_db = IsSqlite(rel);
    const bool expected_db = std::find(kDatabasePaths.begin(), kDatabasePaths.end(), rel) != kDatabasePaths.end();
    if (is_db.ok() && *is_db) {
      bool opened = false;
      QM_RETURN_IF_ERROR(OpenDatabaseAt(rel, info, &opened));
      if (!opened) return Status::OK();
      db = databases_.find(rel);
    } else if (expected_db && info.size > 0) {
      ItemError(rel, is_db.ok() ? Status::Corruption(Abs(rel), "not a SQLite database (bad header); not taken")
                                : is_db.status());
      return Status::OK();
    }
  }
  if (db != databases_.end()) {
    QM_RETURN_IF_ERROR(StoreDatabase(rel, &db->second, &node, &stored));
    db->second.source.reset();  // its read transaction is over
  } else {
    QM_RETURN_IF_ERROR(StoreFile(rel, info, &node, &stored));
  }
  if (!stored) return Status::OK();
  totals_.files++;
  totals_.bytes_logical += node.size;
  totals_.chunks_total += ChunkCountOf(node);
  (*dir)->entries.emplace(name, std::move(node));
  return Status::OK();
}

Status Archiver::StoreFile(const std::string& rel, const FileInfo& info, Node* node, bool* stored) {
  *stored = false;
  QM_ASSIGN_OR_RETURN(const Node* prev, ParentNode(rel));
  if (prev && prev->type == NodeType::kFile && prev->size == info.size && prev->mtime_ns == info.mtime_ns &&
      prev->ctime_ns == info.ctime_ns && prev->inode == info.inode) {
    // Unchanged since the parent: reuse its chunks, provided the store still
    // has every one of them.
    QM_ASSIGN_OR_RETURN(bool all_present, ChunksPresent(*parent_, *prev));
    if (all_present) {
      ReuseContent(*prev, node);
      *stored = true;
      if (progress_) progress_->FileDone(rel, node->size, true);
      return Status::OK();
    }
  }

  auto file = env_->NewSequentialFile(Abs(rel));
  if (!file.ok()) {
    ItemError(rel, file.status());
    return Status::OK();
  }
  // Refs go into the node's chunk list as they are stored: a large file's
  // list is never held whole.
  ChunkListWriter list(repo_, nullptr, &totals_.bytes_added);
  pipeline_.Start([&](size_t, const ChunkRef& ref) { return list.Add(ref); });
  const size_t max = chunker_.params().max_size;
  buf_.resize(std::max<size_t>(4 * max, 1 << 20));
  size_t start = 0, end = 0;
  bool eof = false;
  uint64_t total = 0;
  while (true) {
    if (!eof && end - start < max) {
      if (start > 0) {
        std::copy(buf_.begin() + start, buf_.begin() + end, buf_.begin());
        end -= start;
        start = 0;
      }
      auto n = (*file)->Read(buf_.size() - end, buf_.data() + end);
      if (!n.ok()) {
        QM_RETURN_IF_ERROR(pipeline_.Finish().WithContext("store " + rel));  // drop what was queued
        ItemError(rel, n.status());
        return Status::OK();
      }
      if (*n == 0) eof = true;
      end += *n;
      totals_.bytes_read += *n;
    }
    if (start == end && eof) break;
    const size_t cut = chunker_.NextCut(ByteView(buf_.data() + start, end - start), eof);
    if (cut == 0) continue;  // need more input
    pipeline_.Submit(ByteView(buf_.data() + start, cut));
    total += cut;
    start += cut;
  }
  QM_RETURN_IF_ERROR(pipeline_.Finish().WithContext("store " + rel));
  QM_RETURN_IF_ERROR(list.Finish(node).WithContext("store " + rel));
  if (total != info.size) {
    Warn(rel + " changed while it was read (" + std::to_string(info.size) + " bytes at start, " +
         std::to_string(total) + " read)");
  }
  node->size = total;
  *stored = true;
  if (progress_) progress_->FileDone(rel, total, false);
  return Status::OK();
}

Result<bool> Archiver::IsSqlite(const std::string& rel) {
  auto file = env_->NewSequentialFile(Abs(rel));
  if (!file.ok()) return file.status().IsNotFound() ? Result<bool>(false) : Result<bool>(file.status());
  uint8_t header[16];
  size_t got = 0;
  while (got < sizeof(header)) {
    auto n = (*file)->Read(sizeof(header) - got, header + got);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    got += *n;
  }
  return LooksLikeSqlite(ByteView(header, got));
}

Status Archiver::OpenDatabaseAt(const std::string& rel, const FileInfo& info, bool* opened) {
  *opened = false;
  OpenDatabase db;
  // Stats first, transaction second: a commit after these stats is then
  // either in the copy or visible as a newer stat next time, never lost.
  db.stamped_at_ns = env_->NowUnixNanos();
  db.main = info;
  auto wal = env_->Stat(Abs(rel) + "-wal");
  if (wal.ok()) db.wal = *wal;
  const Node* prev = nullptr;
  if (db_parent_) {
    QM_ASSIGN_OR_RETURN(prev, ParentNode(rel, &*db_parent_));
  }
  const std::optional<SqliteCaptureExt> old = prev ? DatabaseCaptureOf(*prev) : std::nullopt;
  db.check = NeedsCheck(old, db.stamped_at_ns);
  db.last_check_ns = old ? old->last_check_ns : 0;
  QM_RETURN_IF_ERROR(CheckUnchanged(prev, old, &db));
  if (db.reused) {
    databases_[rel] = std::move(db);
    *opened = true;
    return Status::OK();
  }
  auto src = SqliteSource::Open(Abs(rel), opt_.db_busy_timeout_ms, db.check ? SqliteCheck::kRun : SqliteCheck::kSkip);
  if (!src.ok()) {
    failed_databases_.insert(rel);
    ItemError(rel, src.status());
    return Status::OK();
  }
  db.source = std::move(src).value();
  databases_[rel] = std::move(db);
  *opened = true;
  return Status::OK();
}

// quick_check reads the whole database through SQLite: two thirds of an
// hourly run's time, and in rollback-journal mode two thirds of how long
// the database's writers wait for it. It runs on a database's first
// capture, on --force-read (the daily full), and once the newest passing
// check in the capture's lineage is check_interval_s old; a clock that
// went backwards counts as elapsed. A restore over live data, from an
// archive, or with --verify runs integrity_check on every database it
// writes, checked here or not.
bool Archiver::NeedsCheck(const std::optional<SqliteCaptureExt>& old, int64_t now_ns) const {
  if (opt_.force_read || opt_.check_interval_s <= 0 || !old || old->last_check_ns <= 0) return true;
  const int64_t age_ns = now_ns - old->last_check_ns;
  return age_ns < 0 || age_ns / 1000000000 >= opt_.check_interval_s;
}

Status Archiver::CheckUnchanged(const Node* prev, const std::optional<SqliteCaptureExt>& old, OpenDatabase* db) {
  // Unchanged since the parent? Same stats of the file and of what its -wal
  // holds (just taken; WalContentStamp), and neither modified within a
  // second before the parent's stats were taken: file times are coarse, so a
  // commit in the same clock tick as those stats could otherwise look like
  // no change. Then no read transaction is begun at all. A parent capture
  // that ran no check is taken as it is only while no check is due: its
  // bytes were never checked.
  if (opt_.force_read || !old) return Status::OK();
  const FileStamp main = StampOf(db->main);
  const std::optional<FileStamp> wal_then = WalContentStamp(old->wal_file);
  const std::optional<FileStamp> wal_now =
      WalContentStamp(db->wal ? std::optional<FileStamp>(StampOf(*db->wal)) : std::nullopt);
  const int64_t settled = old->stamped_at_ns - 1000000000;
  if (!(old->main == main && wal_now == wal_then && old->main.mtime_ns < settled &&
        (!wal_then || wal_then->mtime_ns < settled) && (old->quick_check == "ok" || !db->check)))
    return Status::OK();
  QM_ASSIGN_OR_RETURN(bool all_present, ChunksPresent(*db_parent_, *prev));
  if (!all_present) return Status::OK();
  Node n = NodeFromInfo(prev->name, NodeType::kFile, db->main);
  ReuseContent(*prev, &n);
  db->reused = std::move(n);
  return Status::OK();
}

Hash256 Archiver::FingerprintKey(const std::string& rel) const {
  return CacheKey({"page-fingerprints", SourceLabel(), rel});
}

std::unique_ptr<FingerprintFileReader> Archiver::OpenParentFingerprints(const std::string& rel, uint32_t page_size,
                                                                        std::optional<ParentList>* parent_list) {
  if (opt_.force_read || !db_parent_) return nullptr;
  auto prev = ParentNode(rel, &*db_parent_);
  if (!prev.ok() || !*prev || (*prev)->type != NodeType::kFile) return nullptr;
  const Node& p = **prev;
  auto present = ChunksPresent(*db_parent_, p);
  if (!present.ok() || !*present) return nullptr;
  auto reader = FingerprintFileReader::Open(repo_, FingerprintKey(rel), p.content_id, page_size, ChunkCountOf(p));
  // The new list's unchanged blocks are the parent's: known stored, no lookup.
  if (reader) parent_list->emplace(repo_, &p);
  return reader;
}

Status Archiver::StoreDatabase(const std::string& rel, OpenDatabase* db, Node* node, bool* stored) {
  *stored = false;
  DatabaseCapture report;
  report.path = rel;

  if (db->reused) {
    *node = std::move(*db->reused);
    db->reused.reset();
    report.unchanged = true;
    if (const auto old = DatabaseCaptureOf(*node)) {
      report.page_size = old->page_size;
      report.page_count = old->page_count;
      report.wal = old->wal;
      report.quick_check = old->quick_check;
      report.last_check_ns = old->last_check_ns;
    }
    report.read_hold_ms = 0;  // proven unchanged from its stats: never opened
    result_.databases.push_back(report);
    *stored = true;
    if (progress_) progress_->FileDone(rel, node->size, true);
    return Status::OK();
  }

  SqliteSource& src = *db->source;
  SqliteCaptureExt ext;
  ext.main = StampOf(db->main);
  if (db->wal) ext.wal_file = StampOf(*db->wal);
  ext.stamped_at_ns = db->stamped_at_ns;

  // quick_check reads every page through SQLite, as long as the copy. With
  // a second connection it already runs on a thread of its own (started for
  // every database when their transactions opened); else it runs first.
  src.StartQuickCheck();
  Status qc;
  if (!src.CanCheckConcurrently()) {
    qc = src.WaitQuickCheck();
    if (!qc.ok()) {
      src.End();
      ItemError(rel, qc);
      return Status::OK();
    }
  }
  const SqliteStateInfo& info = src.info();
  PageChunker chunker(kDatabaseChunking, info.page_size);
  // Chunks whose fingerprint equals the parent capture's chunk at the same
  // position reuse its ref: no SHA-256, lookup or zstd for unchanged pages.
  // The parent's record is read, and the new one written, as the chunks go
  // by: nothing here holds a list that grows with the database.
  std::optional<ParentList> parent_list;
  std::unique_ptr<FingerprintFileReader> parent = OpenParentFingerprints(rel, info.page_size, &parent_list);
  auto fp_out = FingerprintFileWriter::Create(repo_, FingerprintKey(rel), info.page_size);
  if (!fp_out.ok()) return fp_out.status().WithContext("store " + rel);
  ChunkListWriter list(repo_, parent_list ? &*parent_list : nullptr, &totals_.bytes_added);
  list.DeferFirst();                  // page 1 comes last from the stream but is the file's first chunk
  std::deque<uint64_t> fingerprints;  // of the submitted chunks not yet stored
  std::optional<size_t> first_slot;
  bool first_stored = false;
  pipeline_.Start([&](size_t slot, const ChunkRef& ref) -> Status {
    const PageFingerprintEntry e{fingerprints.front(), ref};
    fingerprints.pop_front();
    if (first_slot && slot == *first_slot) {
      first_stored = true;
      (*fp_out)->SetFirst(e);
      return list.SetFirst(ref);
    }
    QM_RETURN_IF_ERROR((*fp_out)->Add(e));
    return list.Add(ref);
  });
  auto submit = [&](ByteView chunk, size_t k) -> size_t {
    const uint64_t x = Xxh3_64(chunk);
    fingerprints.push_back(x);
    if (parent) {
      const std::optional<PageFingerprintEntry> old = parent->Get(k);
      if (old && old->fingerprint == x && old->ref.raw_len == chunk.size()) {
        report.chunks_unchanged++;
        return pipeline_.SubmitKnown(old->ref);
      }
    }
    return pipeline_.Submit(chunk);
  };
  // Page 1 comes last from the stream (SQLite writes it when its copy
  // commits) but is the file's first chunk.
  // It is chunk 0 whenever it comes; the others are numbered from 1 in the
  // order they come.
  size_t next_index = 1;
  Bytes cur;
  uint32_t in_chunk = 0;
  Status streamed = src.Stream([&](uint64_t page_no, ByteView page) -> Status {
    if (page_no == 1) {
      first_slot = submit(page, 0);
      return Status::OK();
    }
    const bool cut = chunker.CutAfter(page, in_chunk + 1, page_no) || page_no == info.page_count;
    if (cut && in_chunk == 0) {
      // A chunk of one page (nearly all of them for pages of 4 KiB and
      // more): hashed and submitted where it lies, not copied first. On the
      // hourly run this loop is what holds the read transaction.
      submit(page, next_index++);
      return Status::OK();
    }
    cur.insert(cur.end(), page.begin(), page.end());
    in_chunk++;
    if (cut) {
      submit(cur, next_index++);
      cur.clear();
      in_chunk = 0;
    }
    return Status::OK();
  });
  // Without a concurrent check, the check is done: the read transaction ends
  // before the last chunks are stored. With one, the chunks are stored and
  // the next run's fingerprints written while the check finishes (for a
  // 1 GiB database it outlasts the copy by a second or more); the
  // transaction ends with the check.
  if (!src.CanCheckConcurrently()) src.End();
  QM_RETURN_IF_ERROR(pipeline_.Finish().WithContext("store " + rel));  // the whole run fails
  parent.reset();
  const bool complete = streamed.ok() && first_stored && cur.empty();
  if (complete) {
    // The refs in file order hash to the content id; the record is read
    // back for it (page 1's ref comes last), then sealed and renamed into
    // place. Written even if the check below fails: that capture is then
    // no snapshot's, so no later run takes the record as its parent's.
    auto content_id = (*fp_out)->Finish();
    if (!content_id.ok()) return content_id.status().WithContext("store " + rel);
    node->content_id = *content_id;
    QM_RETURN_IF_ERROR(list.Finish(node).WithContext("store " + rel));
  }
  fp_out->reset();  // an incomplete capture leaves the parent's record in place
  if (src.CanCheckConcurrently()) qc = src.WaitQuickCheck();
  src.End();
  if (!qc.ok()) {
    ItemError(rel, qc);  // its chunks stay unreferenced; check reports them as such
    return Status::OK();
  }
  if (!complete) {
    ItemError(rel, streamed.ok() ? Status::Corruption(Abs(rel), "incomplete page stream") : streamed);
    return Status::OK();
  }
  totals_.bytes_read += info.page_count * info.page_size;
  ext.page_size = info.page_size;
  ext.page_count = info.page_count;
  ext.data_version = info.data_version;
  ext.wal = info.wal;
  ext.quick_check = info.quick_check;
  ext.last_check_ns = db->check ? db->stamped_at_ns : db->last_check_ns;  // a failed check stores nothing
  ext.read_hold_us = static_cast<uint64_t>(src.info().read_hold_ms * 1000);
  node->size = static_cast<uint64_t>(info.page_count) * info.page_size;
  node->extensions = {NodeExtension{kExtSqliteCapture, EncodeSqliteCaptureExt(ext)}};
  report.page_size = info.page_size;
  report.page_count = info.page_count;
  report.wal = info.wal;
  report.quick_check = info.quick_check;
  report.last_check_ns = ext.last_check_ns;
  report.quick_check_split = info.split_check;
  report.read_direct = info.direct_read;
  report.wal_frames_read = info.wal_frames_read;
  report.read_hold_ms = src.info().read_hold_ms;
  result_.databases.push_back(report);
  *stored = true;
  if (progress_) progress_->FileDone(rel, node->size, false);
  return Status::OK();
}

std::optional<std::pair<Hash256, ByteView>> Archiver::SameAsParentTree(const std::string& rel, const Tree& tree) {
  if (!parent_ || !trusted_parents_.count(parent_->id)) return std::nullopt;
  auto it = parent_trees_.find(ParentTreeSlot(*parent_, rel));
  if (it == parent_trees_.end() || !it->second || !(*it->second == tree)) return std::nullopt;
  Hash256 id = parent_->record.root_tree;
  if (!rel.empty()) {
    auto node = ParentNode(rel);
    if (!node.ok() || *node == nullptr || (*node)->type != NodeType::kDir) return std::nullopt;
    id = (*node)->subtree;
  }
  auto bytes = verified_trees_.find(id);
  if (bytes == verified_trees_.end() || !stored_trees_.count(id)) return std::nullopt;
  return std::make_pair(id, bytes->second);
}

Result<Hash256> Archiver::WriteTree(DirBuild* dir, const std::string& rel) {
  Tree tree;
  std::map<std::string, Node> all = std::move(dir->entries);
  for (auto& [name, sub] : dir->dirs) {
    QM_ASSIGN_OR_RETURN(Hash256 id, WriteTree(sub.get(), rel.empty() ? name : rel + "/" + name));
    Node n = NodeFromInfo(name, NodeType::kDir, sub->info);
    n.subtree = id;
    all.emplace(name, std::move(n));
    totals_.dirs++;
  }
  for (auto& [name, node] : all) {
    // Long chunk lists go into shared blocks: an hour's change rewrites only
    // the blocks around it, not a whole database's list.
    if (node.type == NodeType::kFile && node.list_blocks.empty() && node.chunks.size() > kChunkListInlineMax) {
      ChunkListWriter list(repo_, nullptr, &totals_.bytes_added);
      for (const ChunkRef& ref : node.chunks) QM_RETURN_IF_ERROR(list.Add(ref));
      QM_RETURN_IF_ERROR(list.Finish(&node));
    }
    tree.nodes.push_back(std::move(node));
  }
  // Unchanged since the parent: its tree as it is, not encoded and hashed
  // again (~3.5 ms for the 1 GiB set's root when it held quantmesh.db's
  // 22k block ids in layout 1).
  if (auto same = SameAsParentTree(rel, tree)) {
    written_trees_.push_back(*same);
    return same->first;
  }
  // Nothing asks for this directory's parent trees again: its children were
  // written before it, and the captures that viewed their block ids are
  // done. Freed before the encoding: for data/ they were one of four copies
  // of quantmesh.db's block ids held at once (with the cache file, the new
  // node and its encoding).
  if (parent_) parent_trees_.erase(ParentTreeSlot(*parent_, rel));
  if (db_parent_) parent_trees_.erase(ParentTreeSlot(*db_parent_, rel));
  Bytes& encoded = encoded_trees_.emplace_back(EncodeTree(tree));
  // The nodes are in `encoded` now; their block ids (3 MB for a 4 GiB
  // database in layout 1) would otherwise still be held while the tree is
  // compressed.
  tree = Tree();
  const Hash256 id = Sha256(encoded);
  if (!stored_trees_.count(id)) {
    auto saved = repo_->SaveBlob(BlobType::kTree, id, encoded);
    if (!saved.ok()) return saved.status().WithContext("store tree");
    if (saved->added) totals_.bytes_added += saved->stored_bytes;
  }
  written_trees_.emplace_back(id, ByteView(encoded));
  return id;
}

Result<BackupResult> Archiver::Run() {
  const int64_t started = env_->NowUnixNanos();
  snapshot_time_ = opt_.time_unix ? *opt_.time_unix : started / 1000000000;

  auto src = env_->Stat(opt_.source);
  if (!src.ok()) {
    if (src.status().IsNotFound()) return Status::NotFound("source directory " + opt_.source + " does not exist");
    return src.status().WithContext("source directory");
  }
  if (src->type != FileType::kDirectory)
    return Status::InvalidArgument("source " + opt_.source + " is not a directory");
  root_.info = *src;
  for (const auto& p : opt_.extra_paths) {
    if (!IsCleanRelative(p)) {
      return Status::InvalidArgument("path \"" + p + "\" must be relative to the source directory, without ..");
    }
  }

  // The parent: the latest snapshot of the same source on this host taking
  // the same set (as restic matches paths), else the latest of that source.
  // So a full run after hourly --dbs-only runs compares its logs and configs
  // with the last full run, which has them, instead of re-reading them.
  const std::string host = opt_.record_hostname.value_or(env_->HostName());
  QM_ASSIGN_OR_RETURN(auto snapshots, repo_->ListSnapshots());
  const Snapshot* same_set = nullptr;
  const Snapshot* same_source = nullptr;
  for (auto it = snapshots.rbegin(); it != snapshots.rend() && same_set == nullptr; ++it) {
    if (it->record.source != SourceLabel() || it->record.hostname != host) continue;
    if (same_source == nullptr) same_source = &*it;
    if (((it->record.flags & kSnapshotDbsOnly) != 0) == opt_.dbs_only) same_set = &*it;
  }
  if (same_set != nullptr) {
    parent_ = *same_set;
  } else if (same_source != nullptr) {
    parent_ = *same_source;
  }
  if (same_source != nullptr) db_parent_ = *same_source;
  if (parent_) LoadCachedParent(*parent_);
  if (db_parent_) LoadCachedParent(*db_parent_);

  // One point in time for the whole application: the read transactions of
  // all four databases are opened back to back before any is copied. Each
  // is ended as soon as its copy is done. A database whose stats prove it
  // unchanged since the parent is not opened at all (its content is the
  // parent's, as of its stats taken here). What that proof needs from the
  // parent (its trees, whether its chunks are all still stored) is read
  // first, so the databases' stats and transactions stay back to back.
  if (db_parent_) {
    for (const auto& db : kDatabasePaths) QM_RETURN_IF_ERROR(ParentNode(db, &*db_parent_).status());
    QM_RETURN_IF_ERROR(SnapshotStillIndexed(*db_parent_).status());
  }
  for (const auto& db : kDatabasePaths) {
    if (Excluded(db)) continue;
    auto info = env_->Stat(Abs(db));
    if (!info.ok() || info->type != FileType::kRegular) continue;  // AddPath below reports it
    auto is_db = IsSqlite(db);
    if (!is_db.ok() || !*is_db) continue;  // AddEntry below reports it
    bool opened = false;
    QM_RETURN_IF_ERROR(OpenDatabaseAt(db, *info, &opened));
  }
  // Every changed database's quick_check starts now, each on its own core
  // where it has a second connection, rather than one after another as each
  // is copied: quick_check of a 1 GiB database costs as much as the rest of
  // an hourly run together.
  for (auto& [rel, db] : databases_)
    if (!db.reused) db.source->StartQuickCheck();
  // Copied smallest first: every read transaction is open from the start,
  // and in rollback-journal mode each blocks that database's writers until
  // its copy is done; the order that ends them soonest on the whole is the
  // shortest first (auth.db, holding logins, then waited ~7 s for a 1 GiB
  // quantmesh.db ahead of it). The snapshot's content does not depend on it.
  std::vector<std::string> db_order(kDatabasePaths.begin(), kDatabasePaths.end());
  auto size_of = [&](const std::string& rel) {
    auto it = databases_.find(rel);
    return it == databases_.end() ? uint64_t{0} : it->second.main.size;
  };
  std::stable_sort(db_order.begin(), db_order.end(),
                   [&](const std::string& a, const std::string& b) { return size_of(a) < size_of(b); });
  for (const auto& db : db_order) QM_RETURN_IF_ERROR(AddPath(db, false, false, false));
  if (!opt_.dbs_only) {
    QM_RETURN_IF_ERROR(AddPath("config.yaml", false, false, false));
    QM_RETURN_IF_ERROR(AddPath("config_backups", false, false, false));
    QM_RETURN_IF_ERROR(AddPath("logs", false, false, true));
  }
  for (const auto& p : opt_.extra_paths) QM_RETURN_IF_ERROR(AddPath(NormalizeRelative(p), true, false, false));

  QM_ASSIGN_OR_RETURN(Hash256 root_tree, WriteTree(&root_, ""));

  SnapshotRecord rec;
  rec.time_unix = snapshot_time_;
  rec.time_nanos = opt_.time_unix ? 0 : static_cast<uint32_t>(started % 1000000000);
  rec.hostname = host;
  rec.username = env_->UserName();
  rec.source = SourceLabel();
  std::set<std::string> tags(opt_.tags.begin(), opt_.tags.end());
  rec.tags.assign(tags.begin(), tags.end());
  if (parent_) rec.parent = parent_->id;
  rec.root_tree = root_tree;
  totals_.chunks_new += pipeline_.chunks_new();
  totals_.bytes_added += pipeline_.bytes_added();
  rec.totals = totals_;
  rec.flags =
      (opt_.dbs_only ? uint32_t{kSnapshotDbsOnly} : 0u) | (result_.errors.empty() ? 0u : uint32_t{kSnapshotPartial});
  rec.program_version = QMSNAP_VERSION;

  QM_ASSIGN_OR_RETURN(Hash256 id, repo_->CommitSnapshot(rec));
  result_.snapshot_id = id;
  result_.record = std::move(rec);
  SaveCachedParent();
  result_.duration_s = static_cast<double>(env_->NowUnixNanos() - started) / 1e9;
  return std::move(result_);
}

}  // namespace

const std::vector<std::string>& DefaultDatabasePaths() {
  return kDatabasePaths;
}

Result<BackupResult> Backup(Repository* repo, const BackupOptions& options, ProgressSink* progress) {
  Archiver archiver(repo, options, progress);
  return archiver.Run();
}

}  // namespace qm
