#include "store/repo/pack_toc_cache.h"

#include <mutex>

namespace qm {

BlobLocation PackTocCache::LocationOf(const Entry& e) const {
  BlobLocation loc;
  loc.pack = packs_[e.pack];
  loc.offset = e.offset;
  loc.stored_len = e.stored_len;
  loc.raw_len = e.raw_len;
  loc.type = static_cast<BlobType>(e.type);
  loc.compression = static_cast<Compression>(e.compression);
  loc.frame_raw_len = static_cast<uint32_t>(e.frame_raw_len);
  loc.raw_offset = e.raw_offset;
  return loc;
}

std::optional<BlobLocation> PackTocCache::Find(const Hash256& id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return LocationOf(it->second);
}

void PackTocCache::FindMany(const Hash256* ids, size_t n, std::vector<BlobLocation>* locs,
                            std::vector<size_t>* missing) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  for (size_t i = 0; i < n; i++) {
    auto it = entries_.find(ids[i]);
    if (it == entries_.end()) {
      missing->push_back(i);
    } else {
      (*locs)[i] = LocationOf(it->second);
    }
  }
}

bool PackTocCache::Has(const Hash256& pack) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return seen_.count(pack) > 0;
}

void PackTocCache::Add(const Hash256& pack, const std::vector<PackEntry>& entries) {
  std::unique_lock<std::shared_mutex> l(mu_);
  if (seen_.count(pack)) return;
  if (entries_.size() + entries.size() > max_entries_ && entries.size() <= max_entries_) {
    // Full: the tables held make room, all at once. A restore reads files
    // in order, so the tables it still needs are the ones it loads next;
    // one it needs again is read again when the index names its pack.
    entries_.clear();
    packs_.clear();
    seen_.clear();
  }
  seen_.insert(pack);
  if (entries.size() > max_entries_) return;  // never fits: counted as handled
  // Buckets for the limit at the first table (~2 MB at 2^18): growing by
  // rehashing was ~1% of a restore's CPU. Kept when the tables are dropped.
  if (entries_.bucket_count() < max_entries_) entries_.reserve(max_entries_);
  const uint32_t p = static_cast<uint32_t>(packs_.size());
  packs_.push_back(pack);
  for (const PackEntry& pe : entries) {
    // Cannot happen in a pack the decoder accepted and a writer of ours
    // sealed; an entry that does not fit is simply not held (the index
    // locates it).
    if (pe.offset >= (uint64_t{1} << 40) || pe.frame_raw_len >= (1u << 24) || pe.raw_offset >= (1u << 24)) continue;
    Entry e;
    e.offset = pe.offset;
    e.frame_raw_len = pe.frame_raw_len;
    e.stored_len = pe.stored_len;
    e.raw_len = pe.raw_len;
    e.pack = p;
    e.raw_offset = pe.raw_offset;
    e.type = static_cast<uint32_t>(pe.type);
    e.compression = static_cast<uint32_t>(pe.compression);
    entries_.try_emplace(pe.id, e);
  }
}

}  // namespace qm
