#include "store/ops/chunk_loader.h"

#include <algorithm>

namespace qm {

ChunkLoader::ChunkLoader(Repository* repo, const std::vector<ChunkRef>& chunks, unsigned threads)
    : repo_(repo), chunks_(chunks) {
  for (size_t i = 0; i < chunks.size();) {
    Task t;
    t.begin = i;
    uint64_t bytes = 0;
    while (i < chunks.size() && i - t.begin < kTaskChunks && bytes < kTaskBytes) bytes += chunks[i++].raw_len;
    t.end = i;
    tasks_.push_back(std::move(t));
  }
  const size_t n = std::min<size_t>(std::max(1u, threads), std::max<size_t>(1, tasks_.size()));
  for (size_t i = 0; i < n; i++) workers_.emplace_back([this] { Work(); });
}

ChunkLoader::~ChunkLoader() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ChunkLoader::Work() {
  std::vector<Hash256> ids;
  while (true) {
    size_t t;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l,
               [&] { return stop_ || next_to_load_ >= tasks_.size() || next_to_load_ < next_to_read_ + kTasksAhead; });
      if (stop_ || next_to_load_ >= tasks_.size()) return;
      t = next_to_load_++;
    }
    Task& task = tasks_[t];  // this worker's alone until done is set
    ids.clear();
    for (size_t i = task.begin; i < task.end; i++) ids.push_back(chunks_[i].id);
    Bytes data;
    std::vector<uint32_t> sizes;
    Status s = repo_->LoadBlobsConcatenated(ids.data(), ids.size(), &data, &sizes);
    {
      std::lock_guard<std::mutex> l(mu_);
      task.data = std::move(data);
      task.sizes = std::move(sizes);
      task.status = std::move(s);
      task.done = true;
      if (!task.status.ok()) stop_ = true;  // the reader stops at this task
    }
    cv_.notify_all();
  }
}

Result<bool> ChunkLoader::Next(Bytes* data, std::vector<uint32_t>* sizes, size_t* first) {
  std::unique_lock<std::mutex> l(mu_);
  if (next_to_read_ >= tasks_.size()) return false;
  Task& task = tasks_[next_to_read_];
  cv_.wait(l, [&] { return task.done; });
  if (!task.status.ok()) return task.status;
  *data = std::move(task.data);
  *sizes = std::move(task.sizes);
  *first = task.begin;
  next_to_read_++;
  l.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace qm
