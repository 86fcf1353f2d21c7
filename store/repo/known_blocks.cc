#include "store/repo/known_blocks.h"

#include <algorithm>
#include <numeric>

namespace qm {

void KnownBlocks::Add(std::span<const Hash256> ids) {
  if (ids.empty()) return;
  Run run{ids, std::vector<uint32_t>(ids.size())};
  std::iota(run.order.begin(), run.order.end(), 0u);
  std::sort(run.order.begin(), run.order.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  runs_.push_back(std::move(run));
  size_ += ids.size();
}

bool KnownBlocks::Contains(const Hash256& id) const {
  for (const Run& run : runs_) {
    auto it = std::lower_bound(run.order.begin(), run.order.end(), id,
                               [&](uint32_t k, const Hash256& want) { return run.ids[k] < want; });
    if (it != run.order.end() && run.ids[*it] == id) return true;
  }
  return false;
}

}  // namespace qm
