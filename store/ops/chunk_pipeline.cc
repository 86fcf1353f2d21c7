#include "store/ops/chunk_pipeline.h"

#include <algorithm>

#include "core/hash.h"

namespace qm {

ChunkPipeline::ChunkPipeline(Repository* repo, unsigned threads, size_t max_inflight_bytes)
    : repo_(repo), max_inflight_bytes_(std::max<size_t>(max_inflight_bytes, 1)) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; i++) workers_.emplace_back([this] { Work(); });
}

ChunkPipeline::~ChunkPipeline() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

size_t ChunkPipeline::Submit(ByteView chunk) {
  std::unique_lock<std::mutex> l(mu_);
  // Admit a chunk when the budget allows, or when nothing is in flight (a
  // chunk larger than the budget must still get through).
  done_cv_.wait(l, [&] { return inflight_bytes_ == 0 || inflight_bytes_ + chunk.size() <= max_inflight_bytes_; });
  const size_t slot = submitted_++;
  refs_.emplace_back();
  inflight_bytes_ += chunk.size();
  queue_.push_back(Task{slot, Bytes(chunk.begin(), chunk.end())});
  l.unlock();
  work_cv_.notify_one();
  return slot;
}

Result<std::vector<ChunkRef>> ChunkPipeline::Finish() {
  std::unique_lock<std::mutex> l(mu_);
  done_cv_.wait(l, [&] { return completed_ == submitted_; });
  std::vector<ChunkRef> refs = std::move(refs_);
  refs_.clear();
  submitted_ = completed_ = 0;
  if (!error_.ok()) return error_;
  return refs;
}

void ChunkPipeline::Work() {
  while (true) {
    Task task;
    {
      std::unique_lock<std::mutex> l(mu_);
      work_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      if (!error_.ok()) {  // a store error already ended this run
        inflight_bytes_ -= task.data.size();
        completed_++;
        l.unlock();
        done_cv_.notify_all();
        continue;
      }
    }
    const Hash256 id = Sha256(task.data);
    auto saved = repo_->SaveBlob(BlobType::kData, id, task.data);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (saved.ok()) {
        refs_[task.slot] = ChunkRef{id, static_cast<uint32_t>(task.data.size())};
        if (saved->added) {
          chunks_new_++;
          bytes_added_ += saved->stored_bytes;
        }
      } else if (error_.ok()) {
        error_ = saved.status();
      }
      inflight_bytes_ -= task.data.size();
      completed_++;
    }
    done_cv_.notify_all();
  }
}

}  // namespace qm
