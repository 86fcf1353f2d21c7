// Repository: a qm-snap store on disk (layout in repo_layout.h).
//
// Opened for writing, it holds the single-writer lock and clears leftovers of
// interrupted runs from tmp/. The chunk index is opened on first use and then
// reconciled with packs/ (packs sealed but not indexed are indexed; indexed
// packs that vanished are dropped so nothing new is deduplicated against
// missing data): a backup that finds nothing changed does not need it.
//
// Commit protocol (docs/format.md, "Commit protocol"): blobs go into packs;
// a pack is sealed (fsync, rename, fsync dir) before its entries enter the
// index; CommitSnapshot seals the open packs, syncs the index, and only then
// writes the snapshot record through temp + fsync + rename + fsync dir. The
// record's rename is the commit point: a crash before it leaves only
// unreferenced packs, a crash after it loses nothing.
//
// Thread-safety: SaveBlob, LoadBlob, LoadTree and HasBlob may be called
// concurrently; Flush and CommitSnapshot must not race with SaveBlob.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/chunk_list.h"
#include "core/hash.h"
#include "core/pack_format.h"
#include "core/repo_config.h"
#include "core/result.h"
#include "core/snapshot_record.h"
#include "core/tree.h"
#include "store/io/env.h"
#include "store/repo/cache_file_writer.h"
#include "store/repo/chunk_index.h"
#include "store/repo/pack_reader.h"
#include "store/repo/pack_toc_cache.h"
#include "store/repo/pack_writer.h"
#include "store/repo/repo_layout.h"
#include "store/repo/repo_lock.h"

namespace qm {

enum class OpenMode { kReadOnly, kWrite };

// Receives one-sentence warnings (stale lock taken over, index repaired…).
using WarningFn = std::function<void(const std::string&)>;

struct Snapshot {
  Hash256 id;
  SnapshotRecord record;
};

class Repository {
 public:
  // A pack is sealed at config().pack_target_size stored bytes or at this
  // many blobs, whichever comes first. Pages that compress to a few hundred
  // bytes put ~50k blobs in a 16 MiB pack; its table, the writer's entry
  // list and the index's write batch then took ~10 MB at once (the largest
  // single part of a 4 GiB initial backup's peak heap). 16k blobs keep each
  // under ~2 MB whatever the data.
  static constexpr size_t kPackMaxBlobs = 16384;

  // Creates a repository at `root` (which must not exist, or be an empty
  // directory). `cfg.repo_id` is generated when zero.
  static Status Init(Env* env, const std::string& root, RepoConfig cfg);

  // NotFound with "create one with `qm-snap init`" advice when `root` holds no
  // repository; Locked when another writer holds it (kWrite only).
  static Result<std::unique_ptr<Repository>> Open(Env* env, const std::string& root, OpenMode mode,
                                                  WarningFn warn = {});

  // Releases the lock. Blobs saved but not committed are dropped (their
  // sealed packs stay as unreferenced packs).
  ~Repository();

  Env* env() const { return env_; }
  const RepoLayout& layout() const { return layout_; }
  const RepoConfig& config() const { return config_; }
  // The chunk index, opened (and, for a writer, reconciled with packs/) on
  // first use.
  Result<ChunkIndex*> index();
  // Whether anything has needed the index yet (a writer opens it lazily).
  bool index_opened() const;

  // --- writing (REQUIRES kWrite) ---
  struct SaveResult {
    bool added = false;         // false: already stored (deduplicated)
    uint64_t stored_bytes = 0;  // bytes appended to a pack
    uint64_t blobs_added = 0;
  };
  // Stores `raw` (whose SHA-256 is `id`) unless a blob with that id is
  // already stored or pending. Compresses with the repository's zstd level;
  // stores raw bytes when compression does not help. Concurrent callers
  // append to different open packs (at most one per caller in flight), so
  // a run leaves up to that many partly filled packs per blob type.
  Result<SaveResult> SaveBlob(BlobType type, const Hash256& id, ByteView raw);
  // SaveBlob for raws[0, n) (ids[i] the SHA-256 of raws[i]), in order: the
  // new ones of at most kMaxSharedFrameBlob bytes go into shared zstd
  // frames of up to kSharedFrameBlobs blobs and kSharedFrameBytes
  // (docs/format.md, "Pack files"). One 4 KiB page per frame compressed at
  // ~155 MB/s and decompressed at ~510 MB/s on the benchmark's database;
  // sixteen consecutive pages per frame at ~170-190 and ~1000 MB/s, and
  // ~1% smaller. The result sums the blobs stored (`added`: any).
  //
  // `positions` (optional, ascending): each blob's place in its file's
  // chunk list. A frame then holds only blobs of one run of places
  // [k * kSharedFrameSpan, (k + 1) * kSharedFrameSpan), so a restore, which
  // loads a file in runs of that many chunks (ChunkLoader), decompresses it
  // once. Without this an hourly run's scattered pages shared frames across
  // the whole file, and a restore after seven simulated hours decompressed
  // a frame for nearly every such page. (Frames that only spanned fewer
  // than 256 places could straddle two runs: after seven hours 8% more
  // frames were decompressed, for 0.5% fewer bytes in an hourly run.)
  Result<SaveResult> SaveBlobs(BlobType type, const Hash256* ids, const ByteView* raws, size_t n,
                               const size_t* positions = nullptr);
  static constexpr size_t kSharedFrameSpan = 256;
  static constexpr size_t kMaxSharedFrameBlob = 16u << 10;
  static constexpr size_t kSharedFrameBlobs = 16;
  static constexpr size_t kSharedFrameBytes = 64u << 10;
  // Seals the open packs and indexes them (not synced: see CommitSnapshot).
  Status Flush();
  // Commits a snapshot; returns its id. On OK the snapshot is durable.
  Result<Hash256> CommitSnapshot(const SnapshotRecord& record);

  // --- reading ---
  Result<bool> HasBlob(const Hash256& id);
  Status LoadBlob(const Hash256& id, Bytes* out);
  // Loads ids[0..n) into out[0..n) (resized), each verified as LoadBlob
  // does, reading neighbouring blobs of one pack with a single read of at
  // most 8 MiB: a file's chunks usually sit side by side in its packs.
  Status LoadBlobs(const Hash256* ids, size_t n, std::vector<Bytes>* out);
  // The same, one after another into *out (replaced), with each blob's size
  // in *sizes: a restore writes them as they lie, without a buffer per blob.
  // `read_buffer`, when given, holds the stored bytes between calls: a
  // caller that loads run after run keeps one instead of allocating one
  // per call. *out's capacity is reused too.
  Status LoadBlobsConcatenated(const Hash256* ids, size_t n, Bytes* out, std::vector<uint32_t>* sizes,
                               Bytes* read_buffer = nullptr);
  // Loads a tree blob; files whose chunk list is in blocks come back with
  // `chunks` filled in and checked against their size and content id.
  Result<Tree> LoadTree(const Hash256& id);
  // Loads a tree blob without loading chunk-list blocks: such files come
  // back with `chunks` empty (see ExpandChunkList).
  Result<Tree> LoadTreeShallow(const Hash256& id);
  // Fills a shallow node's `chunks` from its blocks and checks them against
  // its chunk count, size and content id. No-op for other nodes.
  Status ExpandChunkList(Node* node);
  // Appends the refs of `node`'s chunk-list blocks [first, first + count)
  // (node.list_blocks: index blocks in layout 2, each then read through its
  // leaves) to *out, each block checked against its id and each leaf
  // against its index entry's count: for reading a long list in pieces (the
  // caller checks count, size and content id at the end). `scratch` (may
  // be null) is reused for the raw blocks.
  Status LoadChunkListBlocks(const Node& node, size_t first, size_t count, std::vector<ChunkRef>* out,
                             std::vector<Bytes>* scratch = nullptr);
  // Layout 2 only: appends the leaves named by `node`'s index blocks
  // [first, first + count) to *out, each index block checked against its id.
  Status LoadChunkListLeaves(const Node& node, size_t first, size_t count, std::vector<ChunkListLeaf>* out,
                             std::vector<Bytes>* scratch = nullptr);
  // True when every chunk that `snapshot` references is certainly still in
  // the index (no pack was removed since it was committed; see the "R" and
  // "s" keys in docs/format.md). False means "unknown": check each chunk.
  Result<bool> SnapshotChunksStillIndexed(const Hash256& snapshot);
  // The local cache: one file per key in R/cache/ (page fingerprints;
  // docs/format.md "Page fingerprints"). Put replaces the file through a
  // temporary in R/tmp/ and a rename, without fsync: after a crash the file
  // may be old, new or torn, and its reader must check it (the fingerprint
  // format carries a checksum). Writer only. Get: nullopt when absent.
  Status PutCacheRecord(const Hash256& key, ByteView value);
  Result<std::optional<Bytes>> GetCacheRecord(const Hash256& key);
  // The same file written in pieces (store/repo/cache_file_writer.h), for
  // records not held whole in memory. Writer only.
  Result<std::unique_ptr<CacheFileWriter>> NewCacheFileWriter(const Hash256& key);
  // The cache file of `key` for reading in pieces; nullptr when absent.
  Result<std::unique_ptr<RandomAccessFile>> OpenCacheFile(const Hash256& key);

  // Every readable snapshot, oldest first. An unreadable record is reported
  // through the warning function and skipped (check reports it as an error).
  // Records come from the snapshot cache (core/snapshot_cache.h) where it
  // holds them; a writer refreshes it once 16 records were read from their
  // files or dropped. A record damaged on disk but intact in the cache is
  // listed: LoadSnapshot and `check` read the file itself.
  Result<std::vector<Snapshot>> ListSnapshots();
  // Reads one record and verifies that it hashes to its name.
  Result<SnapshotRecord> LoadSnapshot(const Hash256& id);
  // `ref` is "latest", a full id, a unique id prefix (at least 4 hex
  // digits), or "@TIME": the last snapshot taken at or before TIME
  // (ParseTimeOrAgo: a date and time, or an age such as "2h").
  Result<Snapshot> FindSnapshot(std::string_view ref);
  // The last snapshot taken at or before `unix_seconds`; NotFound naming the
  // oldest snapshot when none is that old.
  Result<Snapshot> FindSnapshotAt(int64_t unix_seconds);

  // Packs present under packs/ (by name).
  Result<std::vector<Hash256>> ListPacksOnDisk();
  // A stamp of packs/ that changes whenever a pack is added or removed:
  // SHA-256 over the inode, size, mtime and ctime of packs/ and each of its
  // 256 shard directories (adding or removing an entry updates a
  // directory's mtime and ctime). 257 stats, ~0.7 ms, where listing every
  // pack took ~4 ms. Times are the kernel's coarse clock, so two changes
  // within one tick (~4 ms) could leave a shard's stamp alone; a writer
  // takes the stamp after its last change and holds the lock until after,
  // so the next change is another process's, started later.
  Result<Hash256> PacksStamp();
  Result<std::shared_ptr<PackReader>> OpenPack(const Hash256& pack);
  // How many packs' tables bulk reads have read so far (for tests and
  // figures: see LocateBlobs).
  uint64_t pack_tables_read() const { return pack_tables_read_.load(std::memory_order_relaxed); }

 private:
  Repository(Env* env, std::string root, OpenMode mode, WarningFn warn);
  Status OpenForWrite();
  // Opens the index once (thread-safe); later calls return the first result.
  Status EnsureIndex();
  Status OpenIndexForWrite();
  Status OpenIndexForRead();
  Status ClearLeftovers();
  // Raises a v1 config to kRepoVersionCurrent (see repository.cc).
  Status UpgradeConfig();
  // A snapshot record's bytes, checked to hash to `id`.
  Result<Bytes> ReadSnapshotFile(const Hash256& id);
  Status ReconcileIndex();
  Status BuildMemIndexFromPacks();
  Status Seal(std::unique_ptr<PackWriter> writer);
  struct FrameMember {
    Hash256 id;
    ByteView raw;
  };
  // Stores members[0, n), known to be neither indexed nor pending when
  // looked up, in one frame (shared when n > 1) of an open pack, except
  // those another thread has claimed meanwhile.
  Result<SaveResult> StoreFrame(BlobType type, const FrameMember* members, size_t n);
  // Where each of ids[0, n) is: pack tables first for bulk reads, then the index.
  Status LocateBlobs(const Hash256* ids, size_t n, std::vector<BlobLocation>* locs);
  // Reads the blobs at `locs` in few large reads and hands each stored form
  // to `decode` with its position. `read_buffer` (any content), when given,
  // receives the reads; otherwise a buffer of this call's own does.
  Status ReadBlobs(const std::vector<BlobLocation>& locs,
                   const std::function<Status(size_t, PackReader&, ByteView)>& decode, Bytes* read_buffer = nullptr);
  void Warn(const std::string& msg) const {
    if (warn_) warn_(msg);
  }

  Env* env_;
  RepoLayout layout_;
  OpenMode mode_;
  WarningFn warn_;
  RepoConfig config_;
  std::unique_ptr<RepoLock> lock_;
  std::once_flag index_once_;
  Status index_status_;
  std::unique_ptr<ChunkIndex> index_;  // set once, inside index_once_
  std::atomic<bool> index_open_{false};

  // Open packs not in use by any SaveBlob, one list per blob type (metadata
  // apart from data). A SaveBlob takes one out, appends outside write_mu_,
  // and puts it back, so concurrent savers fill packs of their own instead
  // of queueing for one: appending (copy, pack SHA-256, a write(2) per MiB)
  // under the lock kept one core waiting on the other (perf: futex waits).
  std::mutex write_mu_;
  std::vector<std::unique_ptr<PackWriter>> idle_packs_[2];  // [0] data, [1] metadata
  std::unordered_set<Hash256, Hash256Hasher> pending_;      // in unsealed packs
  uint64_t pack_seq_ = 0;

  // Packs stay open once read: a restore after 48 hourly runs of the 1 GiB
  // set reads from ~130 packs in every run of 256 chunks, and with at most
  // 64 open it opened, stat'ed and closed a pack 19k times (0.18 s of its
  // 4.1 s of CPU, 6% of its wall time). Half the process's open-file
  // limit, 64 to 4096 (the CLI raises the limit: RaiseOpenFileLimit).
  const size_t max_open_packs_;
  std::mutex packs_mu_;
  std::map<Hash256, std::shared_ptr<PackReader>> open_packs_;

  // Locations for LoadBlobs of many blobs (store/repo/pack_toc_cache.h).
  // 128k entries (~9.8 MB of slots) hold the tables of the packs a restore
  // is reading (LocateBlobs reads only those of packs holding runs). Twice
  // as many held more than it needed in slots that no longer fit the CPU's
  // caches: after 200 simulated hours a restore took 3.50-3.74 s at 128k
  // against 4.14-4.18 s at 256k, and 9 MiB less; at 64k, 3.70-3.77 s.
  PackTocCache tocs_{1u << 17};
  std::atomic<uint64_t> pack_tables_read_{0};
};

}  // namespace qm
