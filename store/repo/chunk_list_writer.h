// ChunkListWriter: a file's chunk list stored as it is produced, one ref
// at a time, so that no list is ever held whole (a 1 GiB database's is
// ~223k refs, ~9 MB).
//
// The result is exactly what SplitChunkList + Repository::SaveChunkList
// give for the whole list: up to kChunkListInlineMax refs stay inline in
// the node, longer lists become chunk-list blocks cut at the same places
// (ChunkListCutAfter depends on each ref alone), saved as each block
// closes. What it holds: the open block, and until the list is known to be
// long, its first kChunkListInlineMax + 1 refs.
//
// A database capture produces its first chunk (page 1) last: DeferFirst()
// keeps the first block, whose cuts never depend on its first ref, until
// SetFirst(). The content id is then the caller's to set (it cannot be
// hashed in order); otherwise Finish() sets it too.
//
// Errors are store errors (SaveBlob), returned by the call that met them.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/hash.h"
#include "core/result.h"
#include "core/tree.h"
#include "store/repo/known_blocks.h"

namespace qm {

class Repository;

class ChunkListWriter {
 public:
  // `stored`: blocks known to be stored (not looked up again); may be null.
  // New stored bytes are added to *bytes_added.
  ChunkListWriter(Repository* repo, const KnownBlocks* stored, uint64_t* bytes_added);

  // Before any Add(): the first ref will come through SetFirst().
  void DeferFirst();
  // A hint: the list will have about `n` blocks (its parent's count). The
  // block ids are the one part of a list that is held whole; growing them
  // by doubling held up to twice their size.
  void ExpectBlocks(size_t n) { list_blocks_.reserve(n); }
  Status Add(const ChunkRef& ref);
  Status SetFirst(const ChunkRef& ref);
  // Sets node->chunks (short lists) or node->list_blocks and
  // list_chunk_count, and, unless DeferFirst() was called, content_id.
  // REQUIRES: SetFirst() called if DeferFirst() was.
  Status Finish(Node* node);

  uint64_t count() const { return count_; }

 private:
  Status CloseBlock();
  // Saves the closed blocks once the list is known to need blocks.
  Status SaveClosed();
  Status SaveBlock(const std::vector<ChunkRef>& refs, size_t slot);

  Repository* repo_;
  const KnownBlocks* stored_;
  uint64_t* bytes_added_;
  bool defer_first_ = false;
  std::optional<ChunkRef> first_;
  uint64_t count_ = 0;                         // refs in the list, the deferred first included
  std::vector<ChunkRef> open_;                 // the block being filled
  std::vector<std::vector<ChunkRef>> closed_;  // closed, not yet saved
  size_t next_slot_ = 0;                       // list_blocks_ index of closed_.front()
  std::vector<ChunkRef> held_first_block_;     // closed first block waiting for SetFirst
  std::vector<Hash256> list_blocks_;
  ContentIdHasher content_;
};

}  // namespace qm
