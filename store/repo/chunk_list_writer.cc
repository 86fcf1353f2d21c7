#include "store/repo/chunk_list_writer.h"

#include "core/chunk_list.h"
#include "store/repo/repository.h"

namespace qm {

ChunkListWriter::ChunkListWriter(Repository* repo, const KnownBlocks* stored, uint64_t* bytes_added)
    : repo_(repo), stored_(stored), bytes_added_(bytes_added) {
  open_.reserve(kChunkListSplitMaxRefs);
}

void ChunkListWriter::DeferFirst() {
  defer_first_ = true;
  open_.push_back(ChunkRef{});  // its place: patched when it comes
  count_ = 1;
}

Status ChunkListWriter::Add(const ChunkRef& ref) {
  open_.push_back(ref);
  count_++;
  if (!defer_first_) content_.Add(ref);
  if (ChunkListCutAfter(ref, open_.size())) return CloseBlock();
  return Status::OK();
}

Status ChunkListWriter::SetFirst(const ChunkRef& ref) {
  first_ = ref;
  if (held_first_block_.empty()) return Status::OK();  // patched when its block is saved or inlined
  held_first_block_[0] = ref;
  QM_RETURN_IF_ERROR(SaveBlock(held_first_block_, 0));
  held_first_block_.clear();
  return Status::OK();
}

Status ChunkListWriter::CloseBlock() {
  closed_.push_back(std::move(open_));
  open_.clear();
  open_.reserve(kChunkListSplitMaxRefs);
  return SaveClosed();
}

Status ChunkListWriter::SaveClosed() {
  if (count_ <= kChunkListInlineMax) return Status::OK();  // may still end inline
  for (std::vector<ChunkRef>& block : closed_) {
    const size_t slot = next_slot_++;
    if (slot == 0 && defer_first_) {
      if (!first_) {
        held_first_block_ = std::move(block);
        list_blocks_.emplace_back();  // its id comes with SetFirst
        continue;
      }
      block[0] = *first_;
    }
    QM_RETURN_IF_ERROR(SaveBlock(block, slot));
  }
  closed_.clear();
  return Status::OK();
}

Status ChunkListWriter::SaveBlock(const std::vector<ChunkRef>& refs, size_t slot) {
  Bytes enc = EncodeChunkList(refs.data(), refs.size());
  const Hash256 id = Sha256(enc);
  if (list_blocks_.size() <= slot) list_blocks_.resize(slot + 1);
  list_blocks_[slot] = id;
  if (stored_ && stored_->Contains(id)) return Status::OK();
  QM_ASSIGN_OR_RETURN(Repository::SaveResult r, repo_->SaveBlob(BlobType::kList, id, enc));
  if (r.added && bytes_added_) *bytes_added_ += r.stored_bytes;
  return Status::OK();
}

Status ChunkListWriter::Finish(Node* node) {
  if (defer_first_ && !first_) return Status::InvalidArgument("chunk list", "first chunk never set");
  if (!open_.empty()) closed_.push_back(std::move(open_));
  open_.clear();
  node->chunks.clear();
  node->list_blocks.clear();
  node->list_chunk_count = 0;
  if (count_ <= kChunkListInlineMax) {
    for (const auto& block : closed_) node->chunks.insert(node->chunks.end(), block.begin(), block.end());
    if (defer_first_) node->chunks[0] = *first_;
    closed_.clear();
  } else {
    QM_RETURN_IF_ERROR(SaveClosed());
    node->list_blocks = std::move(list_blocks_);
    node->list_chunk_count = count_;
  }
  list_blocks_.clear();
  if (!defer_first_) node->content_id = content_.Finish();
  return Status::OK();
}

}  // namespace qm
