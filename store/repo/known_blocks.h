// KnownBlocks: chunk-list block ids known to be stored, so that a
// ChunkListWriter does not look them up again: an hourly run's list is
// mostly its parent's blocks.
//
// It views the ids it is given (a parent node's list_blocks) and keeps a
// sorted index of 4 bytes per id, not a copy: a hash set of a 1 GiB
// database's 22k block ids was ~1.4 MB, held for the whole run.
//
// Ownership: the viewed ids must outlive the KnownBlocks. Thread-safety:
// const methods may be called concurrently; Add may not.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/hash.h"

namespace qm {

class KnownBlocks {
 public:
  // Adds every id of `ids`, viewed, not copied.
  void Add(std::span<const Hash256> ids);
  bool Contains(const Hash256& id) const;
  // How many ids were added.
  size_t size() const { return size_; }

 private:
  struct Run {
    std::span<const Hash256> ids;
    std::vector<uint32_t> order;  // indexes of `ids`, by id
  };
  std::vector<Run> runs_;
  size_t size_ = 0;
};

}  // namespace qm
