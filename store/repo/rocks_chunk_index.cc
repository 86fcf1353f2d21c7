// RocksDB-backed ChunkIndex. Key/value layout (docs/format.md, "Chunk index"):
//   "V"              -> "qm-snap-index v2"
//   "b" + id(32)     -> pack(32) | varint offset | varint stored_len | varint raw_len | u8 type | u8 compression
//                       [| varint frame_raw_len | varint raw_offset: only for a blob in a shared frame]
//   "P" + pack(32)   -> empty (the indexed packs)
//   "p" + pack(32)   -> from before v2, no longer written or read
//   "R"              -> varint: packs ever removed
//   "s" + snap(32)   -> varint: "R" at that snapshot's commit
// Writes are not synced one by one; Sync() syncs the WAL, and the commit
// protocol calls it before any snapshot that relies on the entries appears.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <vector>

#include "core/coding.h"
#include "store/io/allocator.h"
#include "store/repo/chunk_index.h"

namespace qm {
namespace {

constexpr std::string_view kVersionKey = "V";
constexpr std::string_view kRemovalsKey = "R";                  // PackRemovals()
constexpr std::string_view kVersionValue = "qm-snap-index v2";  // v2: "P" keys

// RocksDB's flushes and compactions run on its own threads, so glibc gives
// them arenas of their own, and the buffers of a job (a table being built,
// the blocks being merged) stay resident in that arena after it ends: free,
// but not given back. Releasing them when a job completes took the peak RSS
// of a 4 GiB initial backup from 81.6-82.4 to 74.3-74.5 MiB, of an 8 GiB one
// from 86.2 to 81.6 MiB and of a 4 GiB hourly one from ~42 to 38 MiB, at the
// same speed (a handful of jobs per run; a timer every 100 ms did as well on
// backups but cost restores system time). At 1 GiB it gains nothing (the
// initial backup was 0.3-1.5 MiB higher in four pairs). Called on RocksDB's
// thread.
class ReleaseFreePagesAfterJobs final : public rocksdb::EventListener {
 public:
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override { ReleaseFreeHeapPages(); }
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override { ReleaseFreeHeapPages(); }
};

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(what, s.ToString());
  if (s.IsCorruption()) return Status::Corruption(what, s.ToString());
  if (s.IsNoSpace()) return Status::NoSpace(what, s.ToString());
  if (s.IsBusy() || s.IsTimedOut()) return Status::Locked(what, s.ToString());
  return Status::IOError(what, s.ToString());
}

std::string Key(char tag, const Hash256& id) {
  std::string k(1, tag);
  k.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  return k;
}

std::string EncodeLocation(const BlobLocation& loc) {
  Bytes b;
  PutBytes(&b, loc.pack.View());
  PutVarint64(&b, loc.offset);
  PutVarint64(&b, loc.stored_len);
  PutVarint64(&b, loc.raw_len);
  b.push_back(static_cast<uint8_t>(loc.type));
  b.push_back(static_cast<uint8_t>(loc.compression));
  if (loc.frame_raw_len != 0) {
    PutVarint64(&b, loc.frame_raw_len);
    PutVarint64(&b, loc.raw_offset);
  }
  return std::string(b.begin(), b.end());
}

Result<BlobLocation> DecodeLocation(std::string_view v) {
  ByteReader r(AsBytes(v));
  BlobLocation loc;
  ByteView pack;
  uint8_t type, comp;
  if (!r.ReadBytes(32, &pack) || !r.ReadVarint64(&loc.offset) || !r.ReadVarint32(&loc.stored_len) ||
      !r.ReadVarint32(&loc.raw_len) || !r.ReadU8(&type) || !r.ReadU8(&comp) || !IsKnownBlobType(type) || comp > 1) {
    return Status::Corruption("chunk index", "malformed blob location");
  }
  if (!r.empty()) {
    // A blob in a shared frame (pack version 2).
    if (!r.ReadVarint32(&loc.frame_raw_len) || !r.ReadVarint32(&loc.raw_offset) || !r.empty() ||
        loc.frame_raw_len == 0) {
      return Status::Corruption("chunk index", "malformed blob location");
    }
  }
  loc.pack = *Hash256::FromBytes(pack);
  loc.type = static_cast<BlobType>(type);
  loc.compression = static_cast<Compression>(comp);
  if (const char* problem = SharedFrameProblem(loc.stored()))
    return Status::Corruption("chunk index", std::string("malformed blob location: ") + problem);
  return loc;
}

constexpr unsigned long kCompactAtL0Files = 4;
constexpr size_t kFlushAtWalFiles = 8;

class RocksChunkIndex final : public ChunkIndex {
 public:
  RocksChunkIndex(std::unique_ptr<rocksdb::DB> db, const RocksIndexOptions& options)
      : db_(std::move(db)), read_only_(options.read_only), flush_on_close_entries_(options.flush_on_close_entries) {}
  // A writer flushes a memtable of flush_on_close_entries or more on close.
  // Otherwise every later open, reader or writer, replays the WAL (a first
  // backup of 1 GiB leaves 250k entries there: 1.6 s per open, and Gets then
  // walk a skiplist; an hourly run's 6k entries cost each open ~20 ms).
  // Tiny memtables (an unchanged run adds a key) stay in the WAL: flushing
  // each made an L0 file per run.
  // Not a durability step: the WAL was already synced at each commit.
  //
  // Then level 0 is compacted when it holds kCompactAtL0Files files. Keys are
  // random hashes, so every L0 file overlaps all of L1 and a compaction
  // rewrites the whole index; in the background it never finished inside a
  // 0.1 s run (DB close aborts it), level-0 files piled up (23 after 30
  // runs; RocksDB slows writes at 20 and stops them at 36) and each open
  // then loaded 23 filters.
  ~RocksChunkIndex() override {
    if (read_only_) return;
    uint64_t mem = 0;
    const bool big =
        db_->GetIntProperty("rocksdb.num-entries-active-mem-table", &mem) && mem >= flush_on_close_entries_ && mem > 0;
    // Each open starts a new WAL file and keeps the old ones while their
    // entries are unflushed, so a quiet weekend of unchanged runs would leave
    // a file per run for every later open to replay.
    rocksdb::VectorLogPtr wals;
    const bool many_wals = db_->GetSortedWalFiles(wals).ok() && wals.size() >= kFlushAtWalFiles;
    if ((big || many_wals) && mem > 0) db_->Flush(rocksdb::FlushOptions()).PermitUncheckedError();
    std::string l0;
    if (db_->GetProperty("rocksdb.num-files-at-level0", &l0) && std::stoul(l0) >= kCompactAtL0Files)
      db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).PermitUncheckedError();
  }

  Result<std::optional<BlobLocation>> Lookup(const Hash256& id) override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key('b', id), &value);
    if (s.IsNotFound()) return std::optional<BlobLocation>();
    if (!s.ok()) return FromRocks(s, "chunk index lookup");
    QM_ASSIGN_OR_RETURN(BlobLocation loc, DecodeLocation(value));
    return std::optional<BlobLocation>(loc);
  }

  Status LookupMany(const Hash256* ids, size_t n, std::vector<std::optional<BlobLocation>>* out) override {
    out->assign(n, std::nullopt);
    std::vector<std::string> keys(n);
    std::vector<rocksdb::Slice> slices(n);
    for (size_t i = 0; i < n; i++) {
      keys[i] = Key('b', ids[i]);
      slices[i] = keys[i];
    }
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, slices.data(), values.data(), statuses.data());
    for (size_t i = 0; i < n; i++) {
      if (statuses[i].IsNotFound()) continue;
      if (!statuses[i].ok()) return FromRocks(statuses[i], "chunk index lookup");
      QM_ASSIGN_OR_RETURN(BlobLocation loc, DecodeLocation(values[i].ToStringView()));
      (*out)[i] = loc;
    }
    return Status::OK();
  }

  Status AddPack(const Hash256& pack, const std::vector<PackEntry>& entries) override {
    if (read_only_) return Status::NotSupported("chunk index is open read-only");
    // In key order: each insert then lands next to the previous one in the
    // memtable's skip list (RocksDB starts from the last insert's splice),
    // instead of searching from the top for ~4k random keys per pack.
    // Stable, so duplicate ids keep their order (the last Put wins, as before).
    std::vector<const PackEntry*> sorted(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) sorted[i] = &entries[i];
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const PackEntry* a, const PackEntry* b) { return a->id < b->id; });
    // Sized up front (a key of 33 bytes, a location of up to ~60, framing):
    // grown by doubling, each of its ~4k-entry batches was a string copied
    // into fresh pages six times.
    rocksdb::WriteBatch batch(entries.size() * 100 + 64);
    for (const PackEntry* entry : sorted) {
      const PackEntry& e = *entry;
      std::string existing;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key('b', e.id), &existing);
      if (s.ok()) continue;  // first location wins
      if (!s.IsNotFound()) return FromRocks(s, "chunk index lookup");
      batch.Put(Key('b', e.id), EncodeLocation(BlobLocation::Of(pack, e)));
    }
    // No "p" id list any more (32 bytes per blob, ~20% of an hourly run's
    // index growth): RemovePack finds a pack's blobs by their locations.
    batch.Put(Key('P', pack), rocksdb::Slice());
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "chunk index write");
  }

  Status RemovePack(const Hash256& pack) override {
    if (read_only_) return Status::NotSupported("chunk index is open read-only");
    std::string marker;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key('P', pack), &marker);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return FromRocks(s, "chunk index lookup");
    // Every location is scanned for the pack's blobs. Removing a pack is a
    // repair (its file went missing), rare enough that a scan is cheaper
    // than keeping an id list per pack for it. Indexes written before this
    // also have a "p" id list, removed below with the rest.
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("b"); it->Valid() && it->key().starts_with("b"); it->Next()) {
      QM_ASSIGN_OR_RETURN(BlobLocation loc, DecodeLocation(it->value().ToStringView()));
      if (loc.pack == pack) batch.Delete(it->key());
    }
    if (!it->status().ok()) return FromRocks(it->status(), "chunk index scan");
    batch.Delete(Key('p', pack));
    batch.Delete(Key('P', pack));
    QM_ASSIGN_OR_RETURN(uint64_t removals, PackRemovals());
    Bytes count;
    PutVarint64(&count, removals + 1);
    batch.Put(std::string(kRemovalsKey), ToString(count));
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "chunk index write");
  }

  Result<std::vector<Hash256>> ListPacks() override {
    std::vector<Hash256> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("P"); it->Valid() && it->key().starts_with("P"); it->Next()) {
      if (it->key().size() != 33) return Status::Corruption("chunk index", "malformed pack key");
      out.push_back(*Hash256::FromBytes(AsBytes(std::string_view(it->key().data() + 1, 32))));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "chunk index scan");
    return out;
  }

  Status Sync() override {
    if (read_only_) return Status::OK();
    return FromRocks(db_->SyncWAL(), "chunk index sync");
  }

  Result<uint64_t> CountBlobs() override {
    uint64_t n = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("b"); it->Valid() && it->key().starts_with("b"); it->Next()) ++n;
    if (!it->status().ok()) return FromRocks(it->status(), "chunk index scan");
    return n;
  }

  Result<uint64_t> PackRemovals() override {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), std::string(kRemovalsKey), &v);
    if (s.IsNotFound()) return uint64_t{0};
    if (!s.ok()) return FromRocks(s, "chunk index lookup");
    return DecodeCount(v);
  }

  Status MarkSnapshot(const Hash256& snapshot, uint64_t removals) override {
    if (read_only_) return Status::NotSupported("chunk index is open read-only");
    Bytes v;
    PutVarint64(&v, removals);
    return FromRocks(db_->Put(rocksdb::WriteOptions(), Key('s', snapshot), ToString(v)), "chunk index write");
  }

  Result<std::optional<uint64_t>> SnapshotMark(const Hash256& snapshot) override {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key('s', snapshot), &v);
    if (s.IsNotFound()) return std::optional<uint64_t>();
    if (!s.ok()) return FromRocks(s, "chunk index lookup");
    QM_ASSIGN_OR_RETURN(uint64_t n, DecodeCount(v));
    return std::optional<uint64_t>(n);
  }

 private:
  static std::string ToString(const Bytes& b) { return std::string(b.begin(), b.end()); }
  static Result<uint64_t> DecodeCount(const std::string& v) {
    ByteReader r(AsBytes(v));
    uint64_t n;
    if (!r.ReadVarint64(&n) || !r.empty()) return Status::Corruption("chunk index", "malformed counter");
    return n;
  }

  std::unique_ptr<rocksdb::DB> db_;
  bool read_only_;
  uint64_t flush_on_close_entries_;
};

}  // namespace

Result<std::unique_ptr<ChunkIndex>> OpenRocksChunkIndex(const std::string& dir,
                                                        const RocksIndexOptions& index_options) {
  const bool read_only = index_options.read_only;
  rocksdb::Options options;
  options.create_if_missing = !read_only;
  // Keys are hashes, but a value repeats its pack's 32-byte id, and a run's
  // entries come from a few packs: LZ4 makes an hourly run's table ~30%
  // smaller (870 -> 625 KB for the 1 GiB set), which counts against the
  // hour's bytes added.
  options.compression = rocksdb::kLZ4Compression;
  options.keep_log_file_num = 2;
  options.max_open_files = 64;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Most lookups of a backup are misses (new chunks): a bloom filter answers
  // them without reading a data block.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // 8 MiB. A restore locates most blobs through the packs' own tables
  // (pack_toc_cache.h), and a backup's lookups are mostly misses that the
  // filter answers; its false positives (~1% per table) still read blocks,
  // which at 48 MiB filled the cache as the data grew: an initial backup of
  // a 4 GiB set held 47 MB of blocks (peak RSS 177 MiB, 150 at 8 MiB), for
  // no speed (1G restore 2.51-2.73 s at 8 MiB, 2.61-2.78 s at 48).
  table.block_cache = rocksdb::NewLRUCache(8u << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // An initial backup adds a quarter of a million chunks to the memtable and
  // looks each one up first; without a memtable filter every miss walks the
  // skip list (perf: 7% of a 1 GiB initial backup's CPU).
  // Recovered WAL stays in the memtable instead of becoming an L0 file at
  // every open; ~RocksChunkIndex flushes once the memtable is worth it.
  options.avoid_flush_during_recovery = true;
  // Table statistics feed RocksDB's automatic compaction choices, which this
  // index does not use (~RocksChunkIndex compacts); reading every table's
  // properties at each open cost an unchanged backup ~1 ms.
  options.skip_stats_update_on_db_open = true;
  // An initial backup adds ~250k entries per GiB, ~95 bytes each in the
  // memtable: with the default 64 MiB write buffer the memtable was the
  // part of its memory that grew with the data (23 MB at 1 GiB, 47 at 2).
  // At 16 MiB it is flushed to a table as it fills (two at most in memory).
  options.write_buffer_size = 16u << 20;
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.025;  // ~420 KB: ~20 bits per key of a full memtable
  options.listeners.push_back(std::make_shared<ReleaseFreePagesAfterJobs>());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(options, dir, &raw) : rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, "open chunk index " + dir);
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string version;
  s = db->Get(rocksdb::ReadOptions(), std::string(kVersionKey), &version);
  if (s.IsNotFound()) {
    if (read_only) return Status::NotFound("chunk index " + dir, "no version record");
    s = db->Put(rocksdb::WriteOptions(), std::string(kVersionKey), std::string(kVersionValue));
    if (!s.ok()) return FromRocks(s, "initialise chunk index");
  } else if (!s.ok()) {
    return FromRocks(s, "read chunk index version");
  } else if (version != kVersionValue) {
    return Status::NotSupported("chunk index " + dir, "unknown version \"" + version + "\"");
  }
  return std::unique_ptr<ChunkIndex>(new RocksChunkIndex(std::move(db), index_options));
}

}  // namespace qm
