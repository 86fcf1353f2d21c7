#include "store/repo/pack_toc_cache.h"

#include <algorithm>
#include <mutex>

namespace qm {

namespace {

// The slot is picked from Hash256Hasher's value (8 bytes of the SHA-256,
// already a good hash) by multiplying (Lemire's range reduction), so the
// table's size need not be a power of two.
size_t Home(const Hash256& id, size_t slots) {
  const uint64_t h = Hash256Hasher{}(id);
  return static_cast<size_t>((static_cast<unsigned __int128>(h) * slots) >> 64);
}

}  // namespace

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

size_t PackTocCache::Probe(const Hash256& id) const {
  // At most 3/4 of the slots are used (Reserve), so the probe ends.
  for (size_t i = Home(id, slots_.size());; i = i + 1 == slots_.size() ? 0 : i + 1) {
    const Slot& s = slots_[i];
    if (s.e.pack == kEmpty || s.id == id) return i;
  }
}

void PackTocCache::Reserve(size_t more) {
  const size_t max_slots = max_entries_ + max_entries_ / 3 + 1;
  const size_t need = used_ + more;
  if (need * 4 <= slots_.size() * 3) return;
  size_t n = std::max<size_t>(slots_.size(), 1024);
  while (n * 3 < need * 4 && n < max_slots) n *= 2;
  n = std::min(n, max_slots);
  std::vector<Slot> old(n);
  for (Slot& s : old) s.e.pack = kEmpty;
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.e.pack != kEmpty) slots_[Probe(s.id)] = s;
  }
}

std::optional<BlobLocation> PackTocCache::Find(const Hash256& id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  if (slots_.empty()) return std::nullopt;
  const Slot& s = slots_[Probe(id)];
  if (s.e.pack == kEmpty) return std::nullopt;
  return LocationOf(s.e);
}

void PackTocCache::FindMany(const Hash256* ids, size_t n, std::vector<BlobLocation>* locs,
                            std::vector<size_t>* missing) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  for (size_t i = 0; i < n; i++) {
    const Slot* s = slots_.empty() ? nullptr : &slots_[Probe(ids[i])];
    if (s == nullptr || s->e.pack == kEmpty) {
      missing->push_back(i);
    } else {
      (*locs)[i] = LocationOf(s->e);
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
  if (used_ + entries.size() > max_entries_ && entries.size() <= max_entries_) {
    // Full: the tables held make room, all at once. A restore reads files
    // in order, so the tables it still needs are the ones it loads next;
    // one it needs again is read again when the index names its pack. The
    // slots are kept for the next tables.
    for (Slot& s : slots_) s.e.pack = kEmpty;
    used_ = 0;
    packs_.clear();
    seen_.clear();
  }
  seen_.insert(pack);
  if (entries.size() > max_entries_) return;  // never fits: counted as handled
  Reserve(entries.size());
  const uint32_t p = static_cast<uint32_t>(packs_.size());
  packs_.push_back(pack);
  for (const PackEntry& pe : entries) {
    // Cannot happen in a pack the decoder accepted and a writer of ours
    // sealed; an entry that does not fit is simply not held (the index
    // locates it).
    if (pe.offset >= (uint64_t{1} << 40) || pe.frame_raw_len >= (1u << 24) || pe.raw_offset >= (1u << 24)) continue;
    Slot& s = slots_[Probe(pe.id)];
    if (s.e.pack != kEmpty) continue;  // held from another pack: keeps that location
    s.id = pe.id;
    s.e.offset = pe.offset;
    s.e.frame_raw_len = pe.frame_raw_len;
    s.e.stored_len = pe.stored_len;
    s.e.raw_len = pe.raw_len;
    s.e.pack = p;
    s.e.raw_offset = pe.raw_offset;
    s.e.type = static_cast<uint32_t>(pe.type);
    s.e.compression = static_cast<uint32_t>(pe.compression);
    used_++;
  }
}

}  // namespace qm
