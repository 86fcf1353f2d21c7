// ParentList: the blocks of refs of a parent snapshot's chunk list (tree
// layout 2), walked in order beside a new list of the same file, so that a
// ChunkListWriter knows which of the new list's blocks are already stored
// without a lookup each: an hourly run's list is mostly its parent's
// blocks (a 1 GiB database's list has ~22k).
//
// A block counts as known only where the parent has it: same id, starting
// at the same chunk. A database's chunks cover fixed page ranges and blocks
// are cut by content, so an unchanged region gives the parent's blocks at
// the parent's offsets. What it holds: the entries of kIndexBlocksPerFill
// index blocks (~1k, at most 8k: 320 KB), never the parent's whole list.
//
// Known means stored: the parent snapshot was committed with every block
// its index blocks name (the caller checks that its chunks are still
// indexed, as for any reuse of a parent's refs). A block it cannot prove
// (a parent index block that fails to load, a shifted block) is "not
// known", and the writer looks it up like any blob: never wrong, only
// slower.
//
// Ownership: `parent` must outlive the ParentList. Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/chunk_list.h"
#include "core/hash.h"
#include "core/tree.h"

namespace qm {

class Repository;

class ParentList {
 public:
  // `parent`: a file node; a list that is inline or in layout 1 (no
  // per-block counts) makes every answer "not known".
  ParentList(Repository* repo, const Node* parent);

  // Whether the parent's list has block `id` starting at chunk `start`.
  // Calls come with non-decreasing `start`, except that start 0 (the first
  // block, which a database capture saves last) may be asked at any time.
  bool Has(const Hash256& id, uint64_t start);

  // Index blocks loaded at a time: one read of a few adjacent blobs instead
  // of a lookup and a read per ~4 KB block (a 4 GiB database has ~700).
  static constexpr size_t kIndexBlocksPerFill = 8;

 private:
  // Replaces the window with the next index blocks' entries; false at the
  // end of the list or on any error (then every later answer is "no").
  bool Fill();

  Repository* repo_;
  const Node* parent_;
  size_t next_index_ = 0;              // next index block of parent_ to load
  std::vector<ChunkListLeaf> window_;  // entries of the loaded index blocks
  size_t pos_ = 0;                     // window_ entry at chunk offset pos_start_
  uint64_t pos_start_ = 0;
  std::optional<Hash256> first_;  // the parent's block at chunk 0
  bool done_ = false;
};

}  // namespace qm
