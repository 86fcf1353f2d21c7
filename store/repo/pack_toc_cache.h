// PackTocCache: blob locations read from packs' own tables of contents, for
// reads of many blobs (a restore, an export, a chunk list).
//
// Asking the RocksDB index for each of a quarter of a million chunks costs
// ~0.9 s of CPU per GiB restored (perf: binary searches in index and data
// blocks, block-cache hashing and locks), more than the disk writes. But
// the chunks of a file were mostly stored one after another into the same
// packs, so once the index has named a chunk's pack, that pack's table of
// contents (read once, ~44 bytes per blob) locates its neighbours too.
// LoadBlobs asks here first and the index only for what is not here, then
// loads the tables of the packs the index named.
//
// The tables are immutable (a pack is sealed before it is indexed), and a
// location found here is as good as the index's: a blob stored in two packs
// has the same bytes in both, and every blob is checked against its SHA-256
// when decoded. Memory is bounded by max_entries (75 bytes each at most:
// slots of 56 bytes, at least a quarter of them empty): a table that would
// pass it first drops every table held, so a restore of any size keeps the
// tables of the packs it is reading (a limit that only stopped adding
// tables let the cache grow with the set up to the limit: 15.6 MB per GiB
// restored, 80 MB at 1M entries).
//
// Entries live in one open-addressing table, not in a node per entry: a
// restore after 200 simulated hours inserts 2.3M entries and drops them
// eight times; the nodes' malloc and free, and the hash lookups through
// them, were 10-15% of its CPU (perf).
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <unordered_set>
#include <vector>

#include "core/hash.h"
#include "core/pack_format.h"
#include "store/repo/chunk_index.h"

namespace qm {

class PackTocCache {
 public:
  explicit PackTocCache(size_t max_entries) : max_entries_(max_entries) {}

  std::optional<BlobLocation> Find(const Hash256& id) const;
  // Find for each of ids[0, n), under one lock (a restore asks for a
  // quarter of a million chunks; a lock per id cost ~3% of its CPU): sets
  // (*locs)[i] for each id held and appends the index of each other one to
  // *missing. `locs` holds at least n.
  void FindMany(const Hash256* ids, size_t n, std::vector<BlobLocation>* locs, std::vector<size_t>* missing) const;
  // Whether `pack`'s table is held, or was refused as larger than the limit.
  bool Has(const Hash256& pack) const;
  // Records `pack`'s table. A blob already recorded from another pack keeps
  // that location.
  void Add(const Hash256& pack, const std::vector<PackEntry>& entries);

 private:
  struct Entry {
    // 24 bytes, as before shared frames: a pack's offsets fit in 40 bits
    // (packs are sealed at 1 GiB at most), a shared frame's sizes in 24
    // (kMaxSharedFrameSize); checked when a table is added.
    uint64_t offset : 40;
    uint64_t frame_raw_len : 24;
    uint32_t stored_len;
    uint32_t raw_len;
    uint32_t pack;  // index into packs_
    uint32_t raw_offset : 24;
    uint32_t type : 4;
    uint32_t compression : 4;
  };
  struct Slot {
    Hash256 id;
    Entry e;  // e.pack == kEmpty: a free slot
  };
  static constexpr uint32_t kEmpty = ~uint32_t{0};
  // The location of an entry; mu_ held.
  BlobLocation LocationOf(const Entry& e) const;
  // The index of the slot holding `id`, or of the free slot where it would
  // go; mu_ held, slots_ not empty.
  size_t Probe(const Hash256& id) const;
  // Makes room for `more` entries (rehashing into a larger table, up to
  // the one for max_entries_); mu_ held exclusively.
  void Reserve(size_t more);

  const size_t max_entries_;
  mutable std::shared_mutex mu_;
  std::vector<Hash256> packs_;                       // guarded by mu_
  std::unordered_set<Hash256, Hash256Hasher> seen_;  // guarded by mu_
  std::vector<Slot> slots_;                          // guarded by mu_; linear probing
  size_t used_ = 0;                                  // guarded by mu_
};

}  // namespace qm
