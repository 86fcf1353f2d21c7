#include "store/repo/chunk_list_writer.h"

#include "store/repo/repository.h"

namespace qm {

ChunkListWriter::ChunkListWriter(Repository* repo, ParentList* parent, uint64_t* bytes_added)
    : repo_(repo), parent_(parent), bytes_added_(bytes_added) {
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
  QM_ASSIGN_OR_RETURN(const Hash256 id, SaveBlock(held_first_block_, 0));
  held_first_block_.clear();
  if (held_first_index_.empty()) {
    index_open_[0].id = id;  // the first index block is still open
    return Status::OK();
  }
  held_first_index_[0].id = id;
  QM_RETURN_IF_ERROR(SaveIndex(held_first_index_, 0));
  held_first_index_.clear();
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
    const uint64_t start = next_start_;  // 0 only for the first block: blocks are never empty
    next_start_ += block.size();
    ChunkListLeaf leaf{Hash256{}, static_cast<uint32_t>(block.size())};
    if (start == 0 && defer_first_) {
      if (!first_) {
        held_first_block_ = std::move(block);  // its id comes with SetFirst
        QM_RETURN_IF_ERROR(AddToIndex(leaf));
        continue;
      }
      block[0] = *first_;
    }
    QM_ASSIGN_OR_RETURN(leaf.id, SaveBlock(block, start));
    QM_RETURN_IF_ERROR(AddToIndex(leaf));
  }
  closed_.clear();
  return Status::OK();
}

Result<Hash256> ChunkListWriter::SaveBlock(const std::vector<ChunkRef>& refs, uint64_t start) {
  Bytes enc = EncodeChunkList(refs.data(), refs.size());
  const Hash256 id = Sha256(enc);
  if (parent_ && parent_->Has(id, start)) return id;
  QM_RETURN_IF_ERROR(Save(enc, id));
  return id;
}

Status ChunkListWriter::AddToIndex(const ChunkListLeaf& leaf) {
  index_open_.push_back(leaf);
  // The first block's id may be a placeholder here; the cut never depends
  // on the first entry (ChunkListIndexCutAfter at length 1 is false).
  if (ChunkListIndexCutAfter(leaf.id, index_open_.size())) return CloseIndex();
  return Status::OK();
}

Status ChunkListWriter::CloseIndex() {
  const size_t slot = index_ids_.size();
  index_ids_.emplace_back();
  if (slot == 0 && !held_first_block_.empty()) {
    held_first_index_ = std::move(index_open_);  // saved by SetFirst
  } else {
    QM_RETURN_IF_ERROR(SaveIndex(index_open_, slot));
  }
  index_open_.clear();
  return Status::OK();
}

Status ChunkListWriter::SaveIndex(const std::vector<ChunkListLeaf>& leaves, size_t slot) {
  Bytes enc = EncodeChunkListIndex(leaves.data(), leaves.size());
  index_ids_[slot] = Sha256(enc);
  return Save(enc, index_ids_[slot]);
}

Status ChunkListWriter::Save(const Bytes& enc, const Hash256& id) {
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
  node->list_indexed = false;
  node->list_chunk_count = 0;
  if (count_ <= kChunkListInlineMax) {
    for (const auto& block : closed_) node->chunks.insert(node->chunks.end(), block.begin(), block.end());
    if (defer_first_) node->chunks[0] = *first_;
    closed_.clear();
  } else {
    QM_RETURN_IF_ERROR(SaveClosed());
    if (!index_open_.empty()) QM_RETURN_IF_ERROR(CloseIndex());
    node->list_blocks = std::move(index_ids_);
    node->list_indexed = true;
    node->list_chunk_count = count_;
  }
  index_ids_.clear();
  if (!defer_first_) node->content_id = content_.Finish();
  return Status::OK();
}

}  // namespace qm
