// ChunkListWriter: a file's chunk list stored as it is produced, one ref
// at a time, so that no list is ever held whole (a 1 GiB database's is
// ~223k refs, ~9 MB), nor the ids of its blocks (~22k, 0.7 MB).
//
// Up to kChunkListInlineMax refs stay inline in the node. Longer lists are
// stored in two levels (tree layout 2, docs/format.md): blocks of refs cut
// as SplitChunkList cuts (ChunkListCutAfter depends on each ref alone),
// saved as each closes, and index blocks naming those blocks, cut by
// ChunkListIndexCutAfter and saved as each closes; the node gets the index
// blocks' ids. What it holds: the open block, the open index block, the
// index blocks' ids (~1 per 128 blocks), and until the list is known to be
// long, its first kChunkListInlineMax + 1 refs.
//
// A database capture produces its first chunk (page 1) last: DeferFirst()
// keeps the first block, whose cuts never depend on its first ref, and the
// first index block, whose cuts never depend on its first block's id,
// until SetFirst(). The content id is then the caller's to set (it cannot
// be hashed in order); otherwise Finish() sets it too.
//
// Errors are store errors (SaveBlob), returned by the call that met them.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/chunk_list.h"
#include "core/hash.h"
#include "core/result.h"
#include "core/tree.h"
#include "store/repo/parent_list.h"

namespace qm {

class Repository;

class ChunkListWriter {
 public:
  // `parent`: the parent snapshot's list of the same file, whose blocks at
  // the same offsets are known stored (not looked up again); may be null.
  // New stored bytes are added to *bytes_added (may be null).
  ChunkListWriter(Repository* repo, ParentList* parent, uint64_t* bytes_added);

  // Before any Add(): the first ref will come through SetFirst().
  void DeferFirst();
  Status Add(const ChunkRef& ref);
  Status SetFirst(const ChunkRef& ref);
  // Sets node->chunks (short lists) or node->list_blocks (index blocks),
  // list_indexed and list_chunk_count, and, unless DeferFirst() was
  // called, content_id.
  // REQUIRES: SetFirst() called if DeferFirst() was.
  Status Finish(Node* node);

  uint64_t count() const { return count_; }

 private:
  Status CloseBlock();
  // Saves the closed blocks once the list is known to need blocks.
  Status SaveClosed();
  Result<Hash256> SaveBlock(const std::vector<ChunkRef>& refs, uint64_t start);
  // Adds a saved block to the open index block, closing it at a cut.
  Status AddToIndex(const ChunkListLeaf& leaf);
  Status CloseIndex();
  Status SaveIndex(const std::vector<ChunkListLeaf>& leaves, size_t slot);
  Status Save(const Bytes& enc, const Hash256& id);

  Repository* repo_;
  ParentList* parent_;
  uint64_t* bytes_added_;
  bool defer_first_ = false;
  std::optional<ChunkRef> first_;
  uint64_t count_ = 0;                           // refs in the list, the deferred first included
  std::vector<ChunkRef> open_;                   // the block being filled
  std::vector<std::vector<ChunkRef>> closed_;    // closed, not yet saved
  uint64_t next_start_ = 0;                      // list offset of closed_.front()'s first chunk
  std::vector<ChunkRef> held_first_block_;       // closed first block waiting for SetFirst
  std::vector<ChunkListLeaf> index_open_;        // the index block being filled
  std::vector<ChunkListLeaf> held_first_index_;  // closed first index block waiting for the first block
  std::vector<Hash256> index_ids_;               // the node's list_blocks (slot 0 a placeholder while held)
  ContentIdHasher content_;
};

}  // namespace qm
