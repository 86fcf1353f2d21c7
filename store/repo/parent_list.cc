#include "store/repo/parent_list.h"

#include <algorithm>

#include "store/repo/repository.h"

namespace qm {

ParentList::ParentList(Repository* repo, const Node* parent) : repo_(repo), parent_(parent) {
  done_ = parent_->type != NodeType::kFile || !parent_->list_indexed || parent_->list_blocks.empty();
}

bool ParentList::Fill() {
  if (done_ || next_index_ >= parent_->list_blocks.size()) {
    done_ = true;
    return false;
  }
  window_.clear();
  pos_ = 0;
  const size_t n = std::min(kIndexBlocksPerFill, parent_->list_blocks.size() - next_index_);
  if (!repo_->LoadChunkListLeaves(*parent_, next_index_, n, &window_).ok() || window_.empty()) {
    done_ = true;
    return false;
  }
  if (next_index_ == 0) first_ = window_.front().id;
  next_index_ += n;
  return true;
}

bool ParentList::Has(const Hash256& id, uint64_t start) {
  if (start == 0) {
    if (next_index_ == 0) Fill();
    return first_ && *first_ == id;
  }
  while (true) {
    while (pos_ < window_.size() && pos_start_ < start) pos_start_ += window_[pos_++].refs;
    if (pos_ < window_.size()) break;
    if (!Fill()) return false;
  }
  return pos_start_ == start && window_[pos_].id == id;
}

}  // namespace qm
