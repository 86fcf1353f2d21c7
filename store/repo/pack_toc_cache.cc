#include "store/repo/pack_toc_cache.h"

#include <mutex>

namespace qm {

std::optional<BlobLocation> PackTocCache::Find(const Hash256& id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  BlobLocation loc;
  loc.pack = packs_[e.pack];
  loc.offset = e.offset;
  loc.stored_len = e.stored_len;
  loc.raw_len = e.raw_len;
  loc.type = e.type;
  loc.compression = e.compression;
  return loc;
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
  const uint32_t p = static_cast<uint32_t>(packs_.size());
  packs_.push_back(pack);
  for (const PackEntry& pe : entries)
    entries_.try_emplace(pe.id, Entry{pe.offset, pe.stored_len, pe.raw_len, p, pe.type, pe.compression});
}

}  // namespace qm
