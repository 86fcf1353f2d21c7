// ChunkIndex: blob id -> where the blob lives (pack, offset, lengths).
//
// An accelerator, not the only truth: every entry is derived from a pack's
// own table of contents, and the whole index can be rebuilt from the packs
// (Repository reconciles it against packs/ every time a writer opens).
// Entries are added one sealed, durable pack at a time, never before.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/pack_format.h"
#include "core/result.h"

namespace qm {

struct BlobLocation {
  Hash256 pack;
  uint64_t offset = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  BlobType type = BlobType::kData;
  Compression compression = Compression::kNone;
  uint32_t frame_raw_len = 0;  // as in PackEntry: 0 unless the frame is shared
  uint32_t raw_offset = 0;
  bool operator==(const BlobLocation&) const = default;

  bool shared_frame() const { return frame_raw_len != 0; }
  static BlobLocation Of(const Hash256& pack, const PackEntry& e) {
    return BlobLocation{pack, e.offset, e.stored_len, e.raw_len, e.type, e.compression, e.frame_raw_len, e.raw_offset};
  }
  StoredBlob stored() const { return StoredBlob{offset, stored_len, raw_len, frame_raw_len, raw_offset, compression}; }
};

class ChunkIndex {
 public:
  virtual ~ChunkIndex() = default;

  // nullopt when the blob is not indexed.
  virtual Result<std::optional<BlobLocation>> Lookup(const Hash256& id) = 0;
  // Lookup of `n` ids at once into (*out)[0..n). The default asks one by one;
  // an index that can batch (RocksDB's MultiGet: one pass over each block
  // for the keys it holds) overrides it. A restore asks for a million.
  virtual Status LookupMany(const Hash256* ids, size_t n, std::vector<std::optional<BlobLocation>>* out) {
    out->resize(n);
    for (size_t i = 0; i < n; i++) {
      QM_ASSIGN_OR_RETURN((*out)[i], Lookup(ids[i]));
    }
    return Status::OK();
  }
  // Records every entry of one pack, and the pack itself, in one atomic batch.
  // A blob already indexed in another pack keeps its first location.
  virtual Status AddPack(const Hash256& pack, const std::vector<PackEntry>& entries) = 0;
  // Drops a pack and every blob whose location is in it.
  virtual Status RemovePack(const Hash256& pack) = 0;
  // Packs recorded in the index.
  virtual Result<std::vector<Hash256>> ListPacks() = 0;
  // Makes everything added so far durable.
  virtual Status Sync() = 0;
  virtual Result<uint64_t> CountBlobs() = 0;

  // How many packs RemovePack has ever dropped from this index. A snapshot
  // committed when the count was N still has every chunk indexed while the
  // count is N: chunks only leave the index with their pack. This lets a
  // backup trust its parent's chunk lists without one lookup per chunk.
  virtual Result<uint64_t> PackRemovals() = 0;
  // Remembers PackRemovals() at the commit of `snapshot` (a cache entry:
  // lost with the index, in which case callers check chunk by chunk).
  virtual Status MarkSnapshot(const Hash256& snapshot, uint64_t removals) = 0;
  virtual Result<std::optional<uint64_t>> SnapshotMark(const Hash256& snapshot) = 0;
};

// In memory; used by readers when the RocksDB index cannot be opened, and in tests.
std::unique_ptr<ChunkIndex> NewMemChunkIndex();

struct RocksIndexOptions {
  bool read_only = false;
  // A writer flushes its memtable on close only when it holds at least this
  // many entries (smaller ones stay in the WAL and are replayed by the next
  // open). Entries, not bytes: RocksDB reports a memtable's arena, which is
  // never small. An hourly run of the 1 GiB set adds ~6k keys (~0.8 MB of
  // WAL): left in the WAL, every later open replayed it, ~20 ms of a 0.1 s
  // unchanged backup. An unchanged run adds one key and stays below (a
  // flush per run would make an L0 file per run, and a compaction every
  // fourth).
  uint64_t flush_on_close_entries = 2000;
};

// RocksDB at `dir` (created if missing unless read_only). A read-only index
// does not take RocksDB's lock, so readers work while a backup runs.
//
// A writer's close may take a while: when level 0 has piled up (one file per
// flush) it compacts the whole index before returning, because a background
// compaction never finishes inside a short hourly run and level-0 files past
// RocksDB's stop trigger would block every later write.
Result<std::unique_ptr<ChunkIndex>> OpenRocksChunkIndex(const std::string& dir, const RocksIndexOptions& options);
inline Result<std::unique_ptr<ChunkIndex>> OpenRocksChunkIndex(const std::string& dir, bool read_only) {
  RocksIndexOptions o;
  o.read_only = read_only;
  return OpenRocksChunkIndex(dir, o);
}

}  // namespace qm
