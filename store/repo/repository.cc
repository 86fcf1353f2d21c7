#include "store/repo/repository.h"

#include <openssl/rand.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <unordered_map>

#include "core/cache_record.h"
#include "core/chunk_list.h"
#include "core/coding.h"
#include "core/snapshot_cache.h"
#include "core/time_format.h"
#include "core/zstd_codec.h"

namespace qm {
namespace {

constexpr uint64_t kMaxSnapshotRecordSize = 1 << 20;

ZstdCodec& ThreadCompressor(int level) {
  thread_local std::unique_ptr<ZstdCodec> codec;
  if (!codec || codec->level() != level) codec = std::make_unique<ZstdCodec>(level);
  return *codec;
}

std::string HexShard(int i) {
  char buf[3];
  std::snprintf(buf, sizeof(buf), "%02x", i);
  return buf;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Repository::Repository(Env* env, std::string root, OpenMode mode, WarningFn warn)
    : env_(env),
      layout_(std::move(root)),
      mode_(mode),
      warn_(std::move(warn)),
      max_open_packs_(static_cast<size_t>(std::clamp<uint64_t>(OpenFileLimit() / 2, 64, 4096))) {}

Repository::~Repository() {
  for (auto& pool : idle_packs_) pool.clear();
  index_.reset();
  lock_.reset();
}

Status Repository::Init(Env* env, const std::string& root, RepoConfig cfg) {
  RepoLayout layout(root);
  auto info = env->Stat(root);
  if (info.ok()) {
    if (info->type != FileType::kDirectory) return Status::AlreadyExists(root, "exists and is not a directory");
    auto children = env->GetChildren(root);
    if (!children.ok()) return children.status();
    if (env->Stat(layout.ConfigFile()).ok()) return Status::AlreadyExists(root, "a repository already exists here");
    if (!children->empty()) return Status::AlreadyExists(root, "directory is not empty");
    QM_RETURN_IF_ERROR(env->SetPermissions(root, 0700));
  } else if (info.status().IsNotFound()) {
    QM_RETURN_IF_ERROR(CreateDirs(env, root, 0700));
  } else {
    return info.status();
  }
  if (cfg.repo_id.IsZero() && RAND_bytes(cfg.repo_id.bytes.data(), 32) != 1) {
    return Status::IOError("init", "no random bytes for the repository id");
  }
  QM_RETURN_IF_ERROR(env->CreateDir(layout.PacksDir(), 0700));
  for (int i = 0; i < 256; ++i) QM_RETURN_IF_ERROR(env->CreateDir(layout.PackShardDir(HexShard(i)), 0700));
  QM_RETURN_IF_ERROR(env->SyncDir(layout.PacksDir()));
  QM_RETURN_IF_ERROR(env->CreateDir(layout.SnapshotsDir(), 0700));
  QM_RETURN_IF_ERROR(env->CreateDir(layout.TmpDir(), 0700));
  // RocksDB creates its files under the process umask (the CLI sets 077);
  // a 0700 directory keeps them private even when a library caller did not.
  QM_RETURN_IF_ERROR(env->CreateDir(layout.IndexDir(), 0700));
  {
    auto index = OpenRocksChunkIndex(layout.IndexDir(), /*read_only=*/false);
    if (!index.ok()) return index.status();
    QM_RETURN_IF_ERROR((*index)->Sync());
  }
  QM_RETURN_IF_ERROR(env->SyncDir(root));
  // The config is written last: a directory without it is not a repository,
  // so a crash during init leaves something `init` can be re-run on after
  // clearing it, never a half repository that backups would use.
  return WriteFileAtomic(env, layout.ConfigFile(), AsBytes(EncodeRepoConfig(cfg)), 0600);
}

Result<std::unique_ptr<Repository>> Repository::Open(Env* env, const std::string& root, OpenMode mode, WarningFn warn) {
  std::unique_ptr<Repository> repo(new Repository(env, root, mode, std::move(warn)));
  auto cfg_bytes = ReadFileToBytes(env, repo->layout_.ConfigFile(), 64 * 1024);
  if (!cfg_bytes.ok()) {
    if (cfg_bytes.status().IsNotFound()) {
      return Status::NotFound("no repository at " + root + "; create one with `qm-snap init --repo " + root + "`");
    }
    return cfg_bytes.status().WithContext("read repository config");
  }
  auto cfg = DecodeRepoConfig(*cfg_bytes);
  if (!cfg.ok()) return cfg.status().WithContext(repo->layout_.ConfigFile());
  repo->config_ = *cfg;
  // Reading needs the index at once; a writer opens it on first use, so a
  // backup that finds nothing changed never pays for it (see EnsureIndex).
  QM_RETURN_IF_ERROR(mode == OpenMode::kWrite ? repo->OpenForWrite() : repo->EnsureIndex());
  return repo;
}

Status Repository::OpenForWrite() {
  std::string stale;
  auto lock = RepoLock::Acquire(env_, layout_, &stale);
  if (!lock.ok()) return lock.status();
  lock_ = std::move(lock).value();
  if (!stale.empty()) Warn("took over a stale lock left by " + stale + " (that process is gone)");
  QM_RETURN_IF_ERROR(ClearLeftovers());
  return UpgradeConfig();
}

// Under the writer lock, before any pack is written: a binary that reads
// only v1 packs must stop at the config's first line, with words, instead
// of failing on the first v2 pack halfway through a restore. Atomic: a
// crash leaves the old config or the new one, and either opens here.
Status Repository::UpgradeConfig() {
  if (config_.version >= kRepoVersionCurrent) return Status::OK();
  RepoConfig upgraded = config_;
  upgraded.version = kRepoVersionCurrent;
  QM_RETURN_IF_ERROR(WriteFileAtomic(env_, layout_.ConfigFile(), AsBytes(EncodeRepoConfig(upgraded)), 0600)
                         .WithContext("upgrade repository config"));
  Warn("upgraded the repository from format v" + std::to_string(config_.version) + " to v" +
       std::to_string(kRepoVersionCurrent) +
       " (pages share zstd frames in packs); qm-snap builds that read only v1 refuse it from now on");
  config_ = upgraded;
  return Status::OK();
}

Status Repository::EnsureIndex() {
  std::call_once(index_once_, [this] {
    index_status_ = mode_ == OpenMode::kWrite ? OpenIndexForWrite() : OpenIndexForRead();
    index_open_.store(index_ != nullptr);
  });
  return index_status_;
}

bool Repository::index_opened() const {
  return index_open_.load();
}

Result<ChunkIndex*> Repository::index() {
  QM_RETURN_IF_ERROR(EnsureIndex());
  return index_.get();
}

Status Repository::OpenIndexForWrite() {
  QM_RETURN_IF_ERROR(CreateDirs(env_, layout_.IndexDir(), 0700));
  auto index = OpenRocksChunkIndex(layout_.IndexDir(), /*read_only=*/false);
  if (!index.ok()) {
    // The index is a cache: throw it away and rebuild it from the packs.
    Warn("chunk index unusable (" + index.status().message() + "); rebuilding it from the packs");
    rocksdb::DestroyDB(layout_.IndexDir(), rocksdb::Options()).PermitUncheckedError();
    QM_RETURN_IF_ERROR(CreateDirs(env_, layout_.IndexDir(), 0700));
    index = OpenRocksChunkIndex(layout_.IndexDir(), /*read_only=*/false);
    if (!index.ok()) return index.status();
  }
  index_ = std::move(index).value();
  return ReconcileIndex();
}

Status Repository::OpenIndexForRead() {
  auto index = OpenRocksChunkIndex(layout_.IndexDir(), /*read_only=*/true);
  if (index.ok()) {
    index_ = std::move(index).value();
    return Status::OK();
  }
  Warn("chunk index unusable (" + index.status().message() + "); reading the packs' own tables instead");
  return BuildMemIndexFromPacks();
}

Status Repository::ClearLeftovers() {
  // We hold the writer lock, so anything temporary belongs to a dead run.
  QM_ASSIGN_OR_RETURN(auto tmp, env_->GetChildren(layout_.TmpDir()));
  // Directories too: `import` extracts an archive under tmp/.
  for (const auto& name : tmp) QM_RETURN_IF_ERROR(RemoveTree(env_, layout_.TmpDir() + "/" + name));
  QM_ASSIGN_OR_RETURN(auto snaps, env_->GetChildren(layout_.SnapshotsDir()));
  for (const auto& name : snaps) {
    if (name.find(".tmp-") != std::string::npos) {
      QM_RETURN_IF_ERROR(env_->RemoveFile(layout_.SnapshotsDir() + "/" + name));
    }
  }
  return Status::OK();
}

Status Repository::ReconcileIndex() {
  QM_ASSIGN_OR_RETURN(std::vector<Hash256> on_disk, ListPacksOnDisk());
  QM_ASSIGN_OR_RETURN(std::vector<Hash256> indexed, index_->ListPacks());
  std::sort(on_disk.begin(), on_disk.end());
  std::sort(indexed.begin(), indexed.end());
  std::vector<Hash256> missing, unindexed;
  std::set_difference(indexed.begin(), indexed.end(), on_disk.begin(), on_disk.end(), std::back_inserter(missing));
  std::set_difference(on_disk.begin(), on_disk.end(), indexed.begin(), indexed.end(), std::back_inserter(unindexed));
  for (const Hash256& p : missing) {
    Warn("pack " + p.ShortHex() + " is missing from the repository; its chunks were dropped from the index " +
         "(run `qm-snap check` to see which snapshots are affected)");
    QM_RETURN_IF_ERROR(index_->RemovePack(p));
  }
  for (const Hash256& p : unindexed) {
    QM_ASSIGN_OR_RETURN(auto reader, OpenPack(p));
    auto entries = reader->ReadToc();
    if (!entries.ok()) {
      Warn("pack " + p.ShortHex() + " is unreadable and was not indexed: " + entries.status().message());
      continue;
    }
    QM_RETURN_IF_ERROR(index_->AddPack(p, *entries));
  }
  if (!missing.empty() || !unindexed.empty()) QM_RETURN_IF_ERROR(index_->Sync());
  return Status::OK();
}

Status Repository::BuildMemIndexFromPacks() {
  index_ = NewMemChunkIndex();
  QM_ASSIGN_OR_RETURN(std::vector<Hash256> packs, ListPacksOnDisk());
  for (const Hash256& p : packs) {
    QM_ASSIGN_OR_RETURN(auto reader, OpenPack(p));
    auto entries = reader->ReadToc();
    if (!entries.ok()) {
      Warn("pack " + p.ShortHex() + " is unreadable: " + entries.status().message());
      continue;
    }
    QM_RETURN_IF_ERROR(index_->AddPack(p, *entries));
  }
  return Status::OK();
}

Result<std::vector<Hash256>> Repository::ListPacksOnDisk() {
  std::vector<Hash256> out;
  QM_ASSIGN_OR_RETURN(auto shards, env_->GetChildren(layout_.PacksDir()));
  for (const auto& shard : shards) {
    if (shard.size() != 2 || !IsHex(shard)) continue;
    QM_ASSIGN_OR_RETURN(auto names, env_->GetChildren(layout_.PackShardDir(shard)));
    for (const auto& name : names) {
      auto id = RepoLayout::ParsePackFileName(name);
      if (id && id->Hex().compare(0, 2, shard) == 0) out.push_back(*id);
    }
  }
  return out;
}

Result<Hash256> Repository::PacksStamp() {
  Bytes all;
  all.reserve(257 * 32);
  for (int i = -1; i < 256; ++i) {
    const std::string dir = i < 0 ? layout_.PacksDir() : layout_.PackShardDir(HexShard(i));
    QM_ASSIGN_OR_RETURN(FileInfo info, env_->Stat(dir));
    PutFixed64(&all, info.inode);
    PutFixed64(&all, info.size);
    PutFixed64(&all, static_cast<uint64_t>(info.mtime_ns));
    PutFixed64(&all, static_cast<uint64_t>(info.ctime_ns));
  }
  return Sha256(all);
}

Result<std::shared_ptr<PackReader>> Repository::OpenPack(const Hash256& pack) {
  {
    std::lock_guard<std::mutex> l(packs_mu_);
    auto it = open_packs_.find(pack);
    if (it != open_packs_.end()) return it->second;
  }
  auto reader = PackReader::Open(env_, layout_.PackFile(pack), pack);
  if (!reader.ok()) return reader.status().WithContext("pack " + pack.ShortHex());
  std::shared_ptr<PackReader> shared(std::move(reader).value());
  std::lock_guard<std::mutex> l(packs_mu_);
  // Full: the pack with the smallest id makes room. Keeping the others
  // (not the least recently used) matters when a restore reads from more
  // packs than fit: its runs cycle through the same packs, which LRU would
  // evict just before each is needed again.
  if (open_packs_.size() >= max_open_packs_) open_packs_.erase(open_packs_.begin());
  open_packs_.emplace(pack, shared);
  return shared;
}

Result<Repository::SaveResult> Repository::SaveBlob(BlobType type, const Hash256& id, ByteView raw) {
  return SaveBlobs(type, &id, &raw, 1);
}

Result<Repository::SaveResult> Repository::SaveBlobs(BlobType type, const Hash256* ids, const ByteView* raws, size_t n,
                                                     const size_t* positions) {
  if (mode_ != OpenMode::kWrite) return Status::NotSupported("repository is open read-only");
  for (size_t i = 0; i < n; i++) {
    if (raws[i].size() > kMaxBlobSize) return Status::InvalidArgument("blob larger than the format allows");
  }
  std::vector<size_t> candidates;
  candidates.reserve(n);
  {
    std::lock_guard<std::mutex> l(write_mu_);
    for (size_t i = 0; i < n; i++) {
      if (!pending_.count(ids[i])) candidates.push_back(i);
    }
  }
  if (candidates.empty()) return SaveResult{};
  QM_RETURN_IF_ERROR(EnsureIndex());
  std::vector<Hash256> ask(candidates.size());
  for (size_t k = 0; k < candidates.size(); k++) ask[k] = ids[candidates[k]];
  std::vector<std::optional<BlobLocation>> found;
  QM_RETURN_IF_ERROR(index_->LookupMany(ask.data(), ask.size(), &found));

  SaveResult total;
  auto store = [&](const FrameMember* members, size_t count) -> Status {
    QM_ASSIGN_OR_RETURN(SaveResult r, StoreFrame(type, members, count));
    total.blobs_added += r.blobs_added;
    total.stored_bytes += r.stored_bytes;
    return Status::OK();
  };
  std::unordered_set<Hash256, Hash256Hasher> seen;
  std::vector<FrameMember> frame;
  size_t frame_bytes = 0;
  size_t first = 0;  // the frame's first member, when positions are given
  for (size_t k = 0; k < candidates.size(); k++) {
    if (found[k]) continue;
    const size_t i = candidates[k];
    // The same id twice in one call: the first is stored.
    if (!seen.insert(ids[i]).second) continue;
    const FrameMember member{ids[i], raws[i]};
    if (raws[i].size() > kMaxSharedFrameBlob) {
      QM_RETURN_IF_ERROR(store(&member, 1));
      continue;
    }
    if (!frame.empty() &&
        (frame.size() == kSharedFrameBlobs || frame_bytes + raws[i].size() > kSharedFrameBytes ||
         (positions != nullptr && positions[i] / kSharedFrameSpan != positions[first] / kSharedFrameSpan))) {
      QM_RETURN_IF_ERROR(store(frame.data(), frame.size()));
      frame.clear();
      frame_bytes = 0;
    }
    if (frame.empty()) first = i;
    frame.push_back(member);
    frame_bytes += raws[i].size();
  }
  if (!frame.empty()) QM_RETURN_IF_ERROR(store(frame.data(), frame.size()));
  total.added = total.blobs_added > 0;
  return total;
}

Result<Repository::SaveResult> Repository::StoreFrame(BlobType type, const FrameMember* members, size_t n) {
  // Claim the ids first: a blob another thread is storing is left to it.
  std::vector<FrameMember> mine;
  mine.reserve(n);
  {
    std::lock_guard<std::mutex> l(write_mu_);
    for (size_t i = 0; i < n; i++) {
      if (pending_.insert(members[i].id).second) mine.push_back(members[i]);
    }
  }
  if (mine.empty()) return SaveResult{};

  // One frame: the blob itself, or the members' bytes back to back.
  thread_local Bytes joined;
  ByteView raw = mine[0].raw;
  if (mine.size() > 1) {
    joined.clear();
    for (const FrameMember& m : mine) joined.insert(joined.end(), m.raw.begin(), m.raw.end());
    raw = joined;
  }
  thread_local Bytes compressed;
  Status s = ThreadCompressor(config_.zstd_level).Compress(raw, &compressed);
  const bool use_zstd = s.ok() && compressed.size() < raw.size();

  std::unique_ptr<PackWriter> writer;
  std::vector<std::unique_ptr<PackWriter>>& pool = idle_packs_[type == BlobType::kData ? 0 : 1];
  if (s.ok()) {
    std::lock_guard<std::mutex> l(write_mu_);
    if (!pool.empty()) {
      writer = std::move(pool.back());
      pool.pop_back();
    } else {
      writer = std::make_unique<PackWriter>(
          env_, &layout_, "pack-" + std::to_string(env_->ProcessId()) + "-" + std::to_string(++pack_seq_) + ".tmp");
    }
  }
  // This thread owns `writer` until it goes back to the pool or is sealed.
  uint64_t stored_bytes = 0;
  if (s.ok() && use_zstd && mine.size() > 1) {
    std::vector<PackWriter::Member> list(mine.size());
    for (size_t i = 0; i < mine.size(); i++) list[i] = {mine[i].id, static_cast<uint32_t>(mine[i].raw.size())};
    s = writer->AddSharedFrame(type, list, compressed);
    stored_bytes = compressed.size();
  } else if (s.ok() && use_zstd) {
    s = writer->Add(type, mine[0].id, Compression::kZstd, static_cast<uint32_t>(raw.size()), compressed);
    stored_bytes = compressed.size();
  } else {
    // Compression does not help: each blob stored as it is.
    for (size_t i = 0; s.ok() && i < mine.size(); i++) {
      s = writer->Add(type, mine[i].id, Compression::kNone, static_cast<uint32_t>(mine[i].raw.size()), mine[i].raw);
      stored_bytes += mine[i].raw.size();
    }
  }
  const SaveResult saved{true, stored_bytes, mine.size()};
  if (!writer || !s.ok() || (writer->size() < config_.pack_target_size && writer->count() < kPackMaxBlobs)) {
    std::lock_guard<std::mutex> l(write_mu_);
    if (!s.ok()) {
      for (const FrameMember& m : mine) pending_.erase(m.id);
    }
    // A failed writer goes back too: its blobs stay pending, so nothing can
    // count them as stored, and Flush reports its failure (no commit).
    if (writer) pool.push_back(std::move(writer));
    if (!s.ok()) return s.WithContext("write pack");
    return saved;
  }
  QM_RETURN_IF_ERROR(Seal(std::move(writer)));
  return saved;
}

// Called without write_mu_: sealing fsyncs the pack, and holding the lock
// through it stalled every other worker (perf: futex waits in the pipeline).
// The pack's ids stay in pending_ until the index points at them, so a
// concurrent SaveBlob of the same id still deduplicates.
Status Repository::Seal(std::unique_ptr<PackWriter> writer) {
  if (!writer || writer->empty()) return Status::OK();
  auto sealed = writer->Seal();
  if (!sealed.ok()) return sealed.status();
  // Only now, with the pack durable under its final name, may the index
  // point at it.
  QM_RETURN_IF_ERROR(index_->AddPack(sealed->id, sealed->entries));
  std::lock_guard<std::mutex> l(write_mu_);
  for (const PackEntry& e : sealed->entries) pending_.erase(e.id);
  return Status::OK();
}

// REQUIRES: no SaveBlob in flight (the caller has drained its workers), so no
// pack is being sealed by another thread when this returns.
Status Repository::Flush() {
  if (mode_ != OpenMode::kWrite) return Status::NotSupported("repository is open read-only");
  std::vector<std::unique_ptr<PackWriter>> open;
  {
    std::lock_guard<std::mutex> l(write_mu_);
    for (auto& pool : idle_packs_) {
      for (auto& w : pool) open.push_back(std::move(w));
      pool.clear();
    }
  }
  // Data packs first, then metadata: the order the single writers had.
  for (auto& w : open) QM_RETURN_IF_ERROR(Seal(std::move(w)));
  return Status::OK();
}

Result<Hash256> Repository::CommitSnapshot(const SnapshotRecord& record) {
  QM_RETURN_IF_ERROR(Flush());
  // An index never opened holds nothing of this run: every blob goes through
  // SaveBlob, which opens it, so no pack was written either.
  if (index_opened()) QM_RETURN_IF_ERROR(index_->Sync());
  Bytes encoded = EncodeSnapshotRecord(record);
  Hash256 id = Sha256(encoded);
  // The commit point: the record appears under its final name only after
  // every pack it needs is durable and indexed.
  QM_RETURN_IF_ERROR(WriteFileAtomic(env_, layout_.SnapshotFile(id), encoded, 0600).WithContext("commit snapshot"));
  // After the commit point; only a cache. If it fails the next backup
  // checks the parent's chunks one by one, so the error is not the commit's.
  if (index_opened()) {
    auto removals = index_->PackRemovals();
    if (removals.ok()) index_->MarkSnapshot(id, *removals).IgnoreError();
  }
  return id;
}

Result<bool> Repository::SnapshotChunksStillIndexed(const Hash256& snapshot) {
  QM_RETURN_IF_ERROR(EnsureIndex());
  QM_ASSIGN_OR_RETURN(auto mark, index_->SnapshotMark(snapshot));
  if (!mark) return false;
  QM_ASSIGN_OR_RETURN(uint64_t removals, index_->PackRemovals());
  return *mark == removals;
}

Result<bool> Repository::HasBlob(const Hash256& id) {
  QM_RETURN_IF_ERROR(EnsureIndex());
  QM_ASSIGN_OR_RETURN(auto loc, index_->Lookup(id));
  return loc.has_value();
}

Status Repository::LoadBlob(const Hash256& id, Bytes* out) {
  QM_RETURN_IF_ERROR(EnsureIndex());
  QM_ASSIGN_OR_RETURN(auto loc, index_->Lookup(id));
  if (!loc) return Status::NotFound("blob " + id.ShortHex(), "not in the index");
  QM_ASSIGN_OR_RETURN(auto pack, OpenPack(loc->pack));
  return pack->ReadBlob(id, loc->stored(), out);
}

namespace {
constexpr size_t kTocCacheMinBlobs = 64;
// A pack's table (~4k entries) is read only for a pack the index named for
// at least this many of one call's blobs: one that holds a run of the file,
// whose neighbours the next calls will ask for. An hourly run's pack holds
// pages from all over a file, a few per run of 256; reading its table for
// them filled the cache with entries no later call used, and once the
// hours' tables outgrew it (~25 hours of the 1 GiB set) every table was
// dropped and read again over and over: a restore after 100 hours read
// 8.7k tables (33.6M entries) and took 16.5 s against 2 s for the first
// snapshot. The index answers those few blobs directly.
constexpr size_t kTocLoadMinBlobs = 32;
}  // namespace

Status Repository::LocateBlobs(const Hash256* ids, size_t n, std::vector<BlobLocation>* locs) {
  locs->assign(n, BlobLocation{});
  // Bulk reads ask the packs' own tables first (pack_toc_cache.h); a handful
  // of blobs (a tree, a few list blocks) is not worth reading a table for.
  const bool bulk = n >= kTocCacheMinBlobs;
  std::vector<size_t> missing;
  if (bulk) {
    tocs_.FindMany(ids, n, locs, &missing);
  } else {
    for (size_t i = 0; i < n; i++) missing.push_back(i);
  }
  if (missing.empty()) return Status::OK();
  QM_RETURN_IF_ERROR(EnsureIndex());
  std::vector<Hash256> ask(missing.size());
  for (size_t k = 0; k < missing.size(); k++) ask[k] = ids[missing[k]];
  std::vector<std::optional<BlobLocation>> found;
  QM_RETURN_IF_ERROR(index_->LookupMany(ask.data(), ask.size(), &found));
  std::unordered_map<Hash256, size_t, Hash256Hasher> named;  // pack -> how many of this call's blobs it holds
  for (size_t k = 0; k < missing.size(); k++) {
    if (!found[k]) return Status::NotFound("blob " + ask[k].ShortHex(), "not in the index");
    (*locs)[missing[k]] = *found[k];
    if (bulk) named[found[k]->pack]++;
  }
  for (const auto& [pack_id, count] : named) {
    if (count < kTocLoadMinBlobs || tocs_.Has(pack_id)) continue;
    // A table that cannot be read only costs this shortcut: the blobs are
    // still read at the index's locations (and a pack that cannot be
    // opened fails there, with its own error).
    auto pack = OpenPack(pack_id);
    pack_tables_read_.fetch_add(1, std::memory_order_relaxed);
    auto toc = pack.ok() ? (*pack)->ReadToc() : Result<std::vector<PackEntry>>(pack.status());
    // (Not `toc.ok() ? *toc : {}`: that copies the table, ~1 MB a pack.)
    if (toc.ok()) {
      tocs_.Add(pack_id, *toc);
    } else {
      tocs_.Add(pack_id, {});
    }
  }
  return Status::OK();
}

Status Repository::ReadBlobs(const std::vector<BlobLocation>& locs,
                             const std::function<Status(size_t, PackReader&, ByteView)>& decode, Bytes* read_buffer) {
  constexpr uint64_t kMaxSpan = 8u << 20, kMaxGap = 64u << 10;
  const size_t n = locs.size();
  Bytes own;
  Bytes* span = read_buffer ? read_buffer : &own;
  for (size_t i = 0; i < n;) {
    // [i, j): blobs of one pack in ascending offsets, close together; the
    // blobs of one shared frame follow each other with the same offset.
    const uint64_t start = locs[i].offset;
    uint64_t end = start + locs[i].stored_len;
    size_t j = i + 1;
    while (j < n && locs[j].pack == locs[i].pack) {
      const bool same_frame = locs[j].shared_frame() && locs[j].offset == locs[j - 1].offset &&
                              locs[j].stored_len == locs[j - 1].stored_len;
      if (!same_frame && !(locs[j].offset >= end && locs[j].offset - end <= kMaxGap &&
                           locs[j].offset + locs[j].stored_len - start <= kMaxSpan))
        break;
      if (!same_frame) end = locs[j].offset + locs[j].stored_len;
      j++;
    }
    QM_ASSIGN_OR_RETURN(auto pack, OpenPack(locs[i].pack));
    // The buffer only grows (to kMaxSpan at most): resizing it to each
    // run's length zero-filled every increase before the read overwrote it
    // (memset was 2.3% of a restore's CPU).
    if (span->size() < end - start) span->resize(end - start);
    QM_RETURN_IF_ERROR(pack->ReadStoredTo(start, static_cast<uint32_t>(end - start), span->data())
                           .WithContext("pack " + locs[i].pack.ShortHex()));
    for (size_t k = i; k < j; k++) {
      QM_RETURN_IF_ERROR(decode(k, *pack, ByteView(span->data() + (locs[k].offset - start), locs[k].stored_len)));
    }
    i = j;
  }
  return Status::OK();
}

Status Repository::LoadBlobs(const Hash256* ids, size_t n, std::vector<Bytes>* out) {
  out->resize(n);
  std::vector<BlobLocation> locs;
  QM_RETURN_IF_ERROR(LocateBlobs(ids, n, &locs));
  return ReadBlobs(locs, [&](size_t k, PackReader& pack, ByteView stored) {
    return pack.DecodeBlob(ids[k], stored, locs[k].stored(), &(*out)[k]);
  });
}

Status Repository::LoadBlobsConcatenated(const Hash256* ids, size_t n, Bytes* out, std::vector<uint32_t>* sizes,
                                         Bytes* read_buffer) {
  std::vector<BlobLocation> locs;
  QM_RETURN_IF_ERROR(LocateBlobs(ids, n, &locs));
  std::vector<uint64_t> at(n);
  uint64_t total = 0;
  sizes->resize(n);
  for (size_t k = 0; k < n; k++) {
    at[k] = total;
    (*sizes)[k] = locs[k].raw_len;
    total += locs[k].raw_len;
  }
  if (total > (uint64_t{1} << 32)) return Status::InvalidArgument("blob batch too large");
  out->resize(total);
  // Read in pack order: each blob has its place in *out, so the order of
  // reading is free. A file's pages from several runs lie in several packs
  // and, since pages share frames, in frames that hold a few of its pages
  // each (the hour's changes in one, the older pages around them in
  // another); in pack order each frame is read and decompressed once.
  std::vector<uint32_t> order(n);
  for (size_t k = 0; k < n; k++) order[k] = static_cast<uint32_t>(k);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (locs[a].pack != locs[b].pack) return locs[a].pack < locs[b].pack;
    return locs[a].offset < locs[b].offset;
  });
  std::vector<BlobLocation> sorted(n);
  for (size_t k = 0; k < n; k++) sorted[k] = locs[order[k]];
  return ReadBlobs(
      sorted,
      [&](size_t k, PackReader& pack, ByteView stored) {
        const uint32_t i = order[k];
        return pack.DecodeBlobTo(ids[i], stored, locs[i].stored(), out->data() + at[i]);
      },
      read_buffer);
}

Result<Tree> Repository::LoadTreeShallow(const Hash256& id) {
  Bytes raw;
  QM_RETURN_IF_ERROR(LoadBlob(id, &raw).WithContext("tree " + id.ShortHex()));
  auto tree = DecodeTree(raw);
  if (!tree.ok()) return tree.status().WithContext("tree " + id.ShortHex());
  return tree;
}

Status Repository::PutCacheRecord(const Hash256& key, ByteView value) {
  QM_RETURN_IF_ERROR(CreateDirs(env_, layout_.CacheDir(), 0700));
  return ReplaceFileUnsynced(env_, layout_.TmpDir() + "/cache-" + key.Hex(), layout_.CacheFile(key), value, 0600)
      .WithContext("cache file " + key.ShortHex());
}

Result<std::optional<Bytes>> Repository::GetCacheRecord(const Hash256& key) {
  auto bytes = ReadFileToBytes(env_, layout_.CacheFile(key), uint64_t{1} << 30);
  if (bytes.status().IsNotFound()) return std::optional<Bytes>();
  if (!bytes.ok()) return bytes.status().WithContext("cache file " + key.ShortHex());
  return std::optional<Bytes>(std::move(bytes).value());
}

Result<std::unique_ptr<CacheFileWriter>> Repository::NewCacheFileWriter(const Hash256& key) {
  QM_RETURN_IF_ERROR(CreateDirs(env_, layout_.CacheDir(), 0700));
  const std::string tmp = layout_.TmpDir() + "/cache-" + key.Hex();
  auto file = env_->NewWritableFile(tmp, 0600);
  if (!file.ok()) return file.status().WithContext("cache file " + key.ShortHex());
  return std::make_unique<CacheFileWriter>(env_, tmp, layout_.CacheFile(key), std::move(file).value());
}

Result<std::unique_ptr<RandomAccessFile>> Repository::OpenCacheFile(const Hash256& key) {
  auto file = env_->NewRandomAccessFile(layout_.CacheFile(key));
  if (file.status().IsNotFound()) return std::unique_ptr<RandomAccessFile>();
  if (!file.ok()) return file.status().WithContext("cache file " + key.ShortHex());
  return file;
}

Status Repository::LoadChunkListBlocks(const Node& n, size_t first, size_t count, std::vector<ChunkRef>* out,
                                       std::vector<Bytes>* scratch) {
  const std::string ctx = "\"" + n.name + "\"";
  if (first > n.list_blocks.size() || count > n.list_blocks.size() - first)
    return Status::InvalidArgument(ctx, "chunk-list blocks out of range");
  std::vector<Bytes> own;
  std::vector<Bytes>& raw = scratch ? *scratch : own;
  if (!n.list_indexed) {
    QM_RETURN_IF_ERROR(LoadBlobs(n.list_blocks.data() + first, count, &raw).WithContext(ctx + ", chunk list"));
    for (const Bytes& block : raw) QM_RETURN_IF_ERROR(DecodeChunkList(block, out).WithContext(ctx));
    return Status::OK();
  }
  std::vector<ChunkListLeaf> leaves;
  QM_RETURN_IF_ERROR(LoadChunkListLeaves(n, first, count, &leaves, &raw));
  std::vector<Hash256> ids(leaves.size());
  for (size_t i = 0; i < leaves.size(); i++) ids[i] = leaves[i].id;
  QM_RETURN_IF_ERROR(LoadBlobs(ids.data(), ids.size(), &raw).WithContext(ctx + ", chunk list"));
  for (size_t i = 0; i < raw.size(); i++) {
    const size_t before = out->size();
    QM_RETURN_IF_ERROR(DecodeChunkList(raw[i], out).WithContext(ctx));
    if (out->size() - before != leaves[i].refs)
      return Status::Corruption(ctx, "chunk-list block " + leaves[i].id.ShortHex() +
                                         " holds a different number of refs than its index block says");
  }
  return Status::OK();
}

Status Repository::LoadChunkListLeaves(const Node& n, size_t first, size_t count, std::vector<ChunkListLeaf>* out,
                                       std::vector<Bytes>* scratch) {
  const std::string ctx = "\"" + n.name + "\"";
  if (!n.list_indexed) return Status::InvalidArgument(ctx, "chunk list has no index blocks");
  if (first > n.list_blocks.size() || count > n.list_blocks.size() - first)
    return Status::InvalidArgument(ctx, "chunk-list index blocks out of range");
  std::vector<Bytes> own;
  std::vector<Bytes>& raw = scratch ? *scratch : own;
  QM_RETURN_IF_ERROR(LoadBlobs(n.list_blocks.data() + first, count, &raw).WithContext(ctx + ", chunk list index"));
  for (const Bytes& block : raw) QM_RETURN_IF_ERROR(DecodeChunkListIndex(block, out).WithContext(ctx));
  return Status::OK();
}

Status Repository::ExpandChunkList(Node* n) {
  if (n->type != NodeType::kFile || n->list_blocks.empty() || !n->chunks.empty()) return Status::OK();
  const std::string ctx = "\"" + n->name + "\"";
  // Blocks are read in batches: the blocks of one list were mostly written
  // one after another into the same packs, so a batch is a few large reads
  // instead of one read per block (a 1 GiB database has ~22k blocks).
  // Batches are loaded on every core: each block is a lookup, a read, a
  // zstd frame and a SHA-256, and a restore waits for the whole list before
  // its first byte (0.3-0.7 s on one core for 1 GiB).
  // A batch is ~1024 blocks of refs either way (an index block names ~128).
  const size_t kBatch = n->list_indexed ? 8 : 1024;
  const size_t batches = (n->list_blocks.size() + kBatch - 1) / kBatch;
  std::vector<std::vector<ChunkRef>> decoded(batches);
  std::vector<Status> errors(batches);
  std::atomic<size_t> next{0};
  auto work = [&] {
    std::vector<Bytes> raw;
    for (size_t b; (b = next.fetch_add(1)) < batches;) {
      const size_t i = b * kBatch, count = std::min(kBatch, n->list_blocks.size() - i);
      errors[b] = LoadChunkListBlocks(*n, i, count, &decoded[b], &raw);
    }
  };
  const size_t threads = std::min<size_t>(batches, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; t++) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const Status& st : errors) QM_RETURN_IF_ERROR(st);
  std::vector<ChunkRef> chunks;
  chunks.reserve(n->list_chunk_count < (uint64_t{1} << 28) ? n->list_chunk_count : 0);
  for (const auto& part : decoded) chunks.insert(chunks.end(), part.begin(), part.end());
  uint64_t total = 0;
  for (const ChunkRef& c : chunks) total += c.raw_len;
  if (chunks.size() != n->list_chunk_count || total != n->size || ContentIdOf(chunks) != n->content_id)
    return Status::Corruption(ctx, "chunk list does not match the file's chunk count, size or content id");
  n->chunks = std::move(chunks);
  return Status::OK();
}

Result<Tree> Repository::LoadTree(const Hash256& id) {
  QM_ASSIGN_OR_RETURN(Tree tree, LoadTreeShallow(id));
  for (Node& n : tree.nodes) QM_RETURN_IF_ERROR(ExpandChunkList(&n).WithContext("tree " + id.ShortHex()));
  return tree;
}

Result<Bytes> Repository::ReadSnapshotFile(const Hash256& id) {
  const std::string ctx = "snapshot " + id.ShortHex();
  auto bytes = ReadFileToBytes(env_, layout_.SnapshotFile(id), kMaxSnapshotRecordSize);
  if (!bytes.ok()) return bytes.status().WithContext(ctx);
  if (Sha256(*bytes) != id) return Status::Corruption(ctx, "record does not match its name");
  return bytes;
}

namespace {

// `bytes` as the record of snapshot `id`; an error names the snapshot.
Result<SnapshotRecord> DecodeRecordOf(const Hash256& id, ByteView bytes) {
  auto rec = DecodeSnapshotRecord(bytes);
  if (!rec.ok()) return rec.status().WithContext("snapshot " + id.ShortHex());
  return rec;
}

}  // namespace

Result<SnapshotRecord> Repository::LoadSnapshot(const Hash256& id) {
  QM_ASSIGN_OR_RETURN(Bytes bytes, ReadSnapshotFile(id));
  return DecodeRecordOf(id, bytes);
}

namespace {

// Records read from their files, or dropped from the cache, before a writer
// rewrites the snapshot cache: reading a few files costs less than
// rewriting ~200 KB after every backup.
constexpr size_t kSnapshotCacheSlack = 16;

Hash256 SnapshotCacheKey() {
  return CacheKey({"snapshot-cache"});
}

}  // namespace

Result<std::vector<Snapshot>> Repository::ListSnapshots() {
  QM_ASSIGN_OR_RETURN(auto names, env_->GetChildren(layout_.SnapshotsDir()));
  // snapshots/ says which snapshots exist; the cache file (core/
  // snapshot_cache.h) only saves reading them, record by record, and a
  // cached record counts only if it hashes to its snapshot's id.
  Bytes cache_file;
  std::unordered_map<Hash256, ByteView, Hash256Hasher> cached;
  auto file = GetCacheRecord(SnapshotCacheKey());
  if (file.ok() && *file) {
    cache_file = std::move(**file);
    auto records = DecodeSnapshotCache(cache_file);
    if (records.ok()) {
      for (const ByteView& r : *records) cached.emplace(Sha256(r), r);
    }
  }
  std::vector<Snapshot> out;
  std::vector<ByteView> listed;  // the records of `out`, for the cache
  std::vector<Bytes> read;       // records read from their files
  read.reserve(names.size());
  size_t hits = 0;
  for (const auto& name : names) {
    auto id = RepoLayout::ParseSnapshotFileName(name);
    if (!id) continue;  // temporaries of an interrupted commit
    auto hit = cached.find(*id);
    if (hit != cached.end()) {
      auto rec = DecodeSnapshotRecord(hit->second);
      if (rec.ok()) {
        out.push_back(Snapshot{*id, std::move(rec).value()});
        listed.push_back(hit->second);
        hits++;
        continue;
      }
    }
    auto bytes = ReadSnapshotFile(*id);
    auto rec = bytes.ok() ? DecodeRecordOf(*id, *bytes) : Result<SnapshotRecord>(bytes.status());
    if (!rec.ok()) {
      Warn("skipping unreadable " + rec.status().message());
      continue;
    }
    out.push_back(Snapshot{*id, std::move(rec).value()});
    read.push_back(std::move(bytes).value());
    listed.push_back(read.back());
  }
  if (mode_ == OpenMode::kWrite && (read.size() >= kSnapshotCacheSlack || cached.size() - hits >= kSnapshotCacheSlack))
    PutCacheRecord(SnapshotCacheKey(), EncodeSnapshotCache(listed)).IgnoreError();  // only a cache
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) {
    if (a.record.time_unix != b.record.time_unix) return a.record.time_unix < b.record.time_unix;
    if (a.record.time_nanos != b.record.time_nanos) return a.record.time_nanos < b.record.time_nanos;
    return a.id < b.id;
  });
  return out;
}

Result<Snapshot> Repository::FindSnapshot(std::string_view ref) {
  QM_ASSIGN_OR_RETURN(auto all, ListSnapshots());
  if (ref == "latest") {
    if (all.empty()) return Status::NotFound("the repository has no snapshots yet");
    return all.back();
  }
  if (!ref.empty() && ref.front() == '@') {
    QM_ASSIGN_OR_RETURN(int64_t at, ParseTimeOrAgo(ref.substr(1), env_->NowUnixNanos() / 1000000000));
    return FindSnapshotAt(at);
  }
  std::string want(ref);
  std::transform(want.begin(), want.end(), want.begin(), [](unsigned char c) { return std::tolower(c); });
  if (want.size() < 4 || want.size() > 64 || !IsHex(want)) {
    return Status::InvalidArgument("snapshot \"" + std::string(ref) +
                                   "\": expected `latest`, an id, an id prefix of at least 4 hex digits, or @TIME");
  }
  std::vector<const Snapshot*> hits;
  for (const Snapshot& s : all) {
    if (s.id.Hex().compare(0, want.size(), want) == 0) hits.push_back(&s);
  }
  if (hits.empty()) return Status::NotFound("no snapshot with id " + std::string(ref));
  if (hits.size() > 1) {
    std::string list;
    for (const Snapshot* s : hits) list += (list.empty() ? "" : ", ") + s->id.ShortHex();
    return Status::InvalidArgument("snapshot prefix " + std::string(ref) + " is ambiguous (" + list + ")");
  }
  return *hits[0];
}

Result<Snapshot> Repository::FindSnapshotAt(int64_t unix_seconds) {
  QM_ASSIGN_OR_RETURN(auto all, ListSnapshots());
  const Snapshot* best = nullptr;
  for (const Snapshot& s : all) {
    if (s.record.time_unix > unix_seconds) continue;
    if (best == nullptr || s.record.time_unix > best->record.time_unix ||
        (s.record.time_unix == best->record.time_unix && s.record.time_nanos >= best->record.time_nanos))
      best = &s;
  }
  if (best != nullptr) return *best;
  if (all.empty()) return Status::NotFound("the repository has no snapshots yet");
  const Snapshot* oldest = &all.front();
  for (const Snapshot& s : all)
    if (s.record.time_unix < oldest->record.time_unix) oldest = &s;
  return Status::NotFound("no snapshot was taken at or before " + FormatTimeIso(unix_seconds) + "; the oldest is " +
                          oldest->id.ShortHex() + ", taken " + FormatTimeIso(oldest->record.time_unix));
}

}  // namespace qm
