#include "store/ops/chunk_loader.h"

#include <algorithm>

namespace qm {

ChunkLoader::ChunkLoader(Repository* repo, const Node& node, unsigned threads) : repo_(repo), node_(node) {
  for (unsigned i = 0; i < std::max(1u, threads); i++) workers_.emplace_back([this] { Work(); });
}

ChunkLoader::~ChunkLoader() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ChunkLoader::Plan(std::unique_lock<std::mutex>& l) {
  planning_ = true;
  l.unlock();
  std::vector<Task> planned;
  Status error;
  bool last = false;
  std::vector<ChunkRef> refs = std::move(carry_);
  carry_.clear();
  if (node_.list_blocks.empty()) {
    const size_t n = std::min(node_.chunks.size() - next_inline_, kBlocksPerPlan * 10);
    refs.insert(refs.end(), node_.chunks.begin() + static_cast<std::ptrdiff_t>(next_inline_),
                node_.chunks.begin() + static_cast<std::ptrdiff_t>(next_inline_ + n));
    next_inline_ += n;
    last = next_inline_ == node_.chunks.size();
  } else {
    // Index blocks name ~128 blocks each: a plan reads about as many
    // blocks of refs in either layout.
    const size_t per_plan = node_.list_indexed ? kIndexBlocksPerPlan : kBlocksPerPlan;
    const size_t n = std::min(node_.list_blocks.size() - next_block_, per_plan);
    error = repo_->LoadChunkListBlocks(node_, next_block_, n, &refs);
    next_block_ += n;
    last = next_block_ == node_.list_blocks.size();
  }
  // Tasks of up to kTaskChunks chunks and kTaskBytes; a short tail waits
  // for the next piece of the list unless this was the last.
  size_t i = 0;
  while (error.ok() && i < refs.size()) {
    size_t end = i;
    uint64_t bytes = 0;
    while (end < refs.size() && end - i < kTaskChunks && bytes < kTaskBytes) bytes += refs[end++].raw_len;
    if (end == refs.size() && !last && end - i < kTaskChunks && bytes < kTaskBytes) break;
    Task t;
    t.refs.assign(refs.begin() + static_cast<std::ptrdiff_t>(i), refs.begin() + static_cast<std::ptrdiff_t>(end));
    planned.push_back(std::move(t));
    i = end;
  }
  if (error.ok()) carry_.assign(refs.begin() + static_cast<std::ptrdiff_t>(i), refs.end());
  if (!error.ok()) {
    Task t;
    t.status = error;
    t.done = true;
    planned.push_back(std::move(t));
    last = true;
  }
  l.lock();
  for (Task& t : planned) tasks_.push_back(std::move(t));
  planning_ = false;
  planned_all_ = last;
  cv_.notify_all();
}

void ChunkLoader::Work() {
  std::vector<Hash256> ids;
  Bytes read_buffer;  // this worker's, for every task it loads
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    const auto ahead = [&] { return next_to_load_ < read_ + kTasksAhead; };
    const auto unloaded = [&] { return next_to_load_ < read_ + tasks_.size(); };
    cv_.wait(l, [&] {
      return stop_ || (ahead() && (unloaded() || !planning_)) || (planned_all_ && !unloaded() && !planning_);
    });
    if (stop_) return;
    if (!unloaded()) {
      if (planned_all_) return;
      Plan(l);
      continue;
    }
    Task& task = tasks_[next_to_load_++ - read_];  // this worker's alone until done is set
    if (task.done) continue;                       // an error in the list: nothing to load
    Bytes data;
    if (!spare_.empty()) {
      data = std::move(spare_.back());
      spare_.pop_back();
    }
    l.unlock();
    ids.clear();
    for (const ChunkRef& r : task.refs) ids.push_back(r.id);
    std::vector<uint32_t> sizes;
    Status s = repo_->LoadBlobsConcatenated(ids.data(), ids.size(), &data, &sizes, &read_buffer);
    l.lock();
    task.data = std::move(data);
    task.sizes = std::move(sizes);
    task.status = std::move(s);
    task.done = true;
    if (!task.status.ok()) stop_ = true;  // the reader stops at this task
    cv_.notify_all();
  }
}

Result<bool> ChunkLoader::Next(Bytes* data, std::vector<uint32_t>* sizes, std::vector<ChunkRef>* refs) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l,
           [&] { return (!tasks_.empty() && tasks_.front().done) || (tasks_.empty() && planned_all_ && !planning_); });
  if (tasks_.empty()) {
    if (chunks_out_ != ChunkCountOf(node_) || bytes_out_ != node_.size || content_.Finish() != node_.content_id)
      return Status::Corruption(node_.name,
                                "manifest entry does not match its chunks (chunk count, size or content id)");
    return false;
  }
  Task& task = tasks_.front();
  if (!task.status.ok()) return task.status;
  for (size_t k = 0; k < task.sizes.size(); k++) {
    if (k >= task.refs.size() || task.sizes[k] != task.refs[k].raw_len)
      return Status::Corruption("chunk " + (k < task.refs.size() ? task.refs[k].id.ShortHex() : std::string("?")),
                                "size differs from the manifest");
    content_.Add(task.refs[k]);
    bytes_out_ += task.sizes[k];
  }
  chunks_out_ += task.sizes.size();
  data->swap(task.data);
  if (task.data.capacity() > 0 && spare_.size() < kTasksAhead) spare_.push_back(std::move(task.data));
  *sizes = std::move(task.sizes);
  if (refs) *refs = std::move(task.refs);
  tasks_.pop_front();
  read_++;
  l.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace qm
