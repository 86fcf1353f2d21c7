#include <map>
#include <mutex>
#include <unordered_map>

#include "store/repo/chunk_index.h"

namespace qm {
namespace {

class MemChunkIndex final : public ChunkIndex {
 public:
  Result<std::optional<BlobLocation>> Lookup(const Hash256& id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return std::optional<BlobLocation>();
    return std::optional<BlobLocation>(it->second);
  }

  Status AddPack(const Hash256& pack, const std::vector<PackEntry>& entries) override {
    std::lock_guard<std::mutex> l(mu_);
    auto& ids = packs_[pack];
    for (const PackEntry& e : entries) {
      ids.push_back(e.id);
      blobs_.try_emplace(e.id, BlobLocation::Of(pack, e));
    }
    return Status::OK();
  }

  Status RemovePack(const Hash256& pack) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = packs_.find(pack);
    if (it == packs_.end()) return Status::OK();
    for (const Hash256& id : it->second) {
      auto b = blobs_.find(id);
      if (b != blobs_.end() && b->second.pack == pack) blobs_.erase(b);
    }
    packs_.erase(it);
    removals_++;
    return Status::OK();
  }

  Result<std::vector<Hash256>> ListPacks() override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Hash256> out;
    for (const auto& [p, ids] : packs_) out.push_back(p);
    return out;
  }

  Status Sync() override { return Status::OK(); }

  Result<uint64_t> CountBlobs() override {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<uint64_t>(blobs_.size());
  }

  Result<uint64_t> PackRemovals() override {
    std::lock_guard<std::mutex> l(mu_);
    return removals_;
  }
  Status MarkSnapshot(const Hash256& snapshot, uint64_t removals) override {
    std::lock_guard<std::mutex> l(mu_);
    marks_[snapshot] = removals;
    return Status::OK();
  }
  Result<std::optional<uint64_t>> SnapshotMark(const Hash256& snapshot) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = marks_.find(snapshot);
    if (it == marks_.end()) return std::optional<uint64_t>();
    return std::optional<uint64_t>(it->second);
  }

 private:
  std::mutex mu_;
  uint64_t removals_ = 0;
  std::map<Hash256, uint64_t> marks_;
  std::unordered_map<Hash256, BlobLocation, Hash256Hasher> blobs_;
  std::map<Hash256, std::vector<Hash256>> packs_;
};

}  // namespace

std::unique_ptr<ChunkIndex> NewMemChunkIndex() {
  return std::make_unique<MemChunkIndex>();
}

}  // namespace qm
