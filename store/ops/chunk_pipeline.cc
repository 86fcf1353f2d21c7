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
  // chunk larger than the budget must still get through). Before waiting,
  // hand the partial batch to the workers: it is what they must finish.
  auto admitted = [&] { return inflight_bytes_ == 0 || inflight_bytes_ + chunk.size() <= max_inflight_bytes_; };
  if (!admitted()) {
    PushBatchLocked();
    work_cv_.notify_one();
    done_cv_.wait(l, admitted);
  }
  const size_t slot = submitted_++;
  refs_.emplace_back();
  inflight_bytes_ += chunk.size();
  batch_.slots.push_back(slot);
  batch_.data.insert(batch_.data.end(), chunk.begin(), chunk.end());
  batch_.lens.push_back(static_cast<uint32_t>(chunk.size()));
  if (batch_.data.size() >= std::min(kBatchBytes, max_inflight_bytes_ / 4)) {
    PushBatchLocked();
    l.unlock();
    work_cv_.notify_one();
  }
  return slot;
}

void ChunkPipeline::Reserve(size_t chunks) {
  std::lock_guard<std::mutex> l(mu_);
  refs_.reserve(refs_.size() + chunks);
}

size_t ChunkPipeline::SubmitKnown(const ChunkRef& ref) {
  std::lock_guard<std::mutex> l(mu_);
  const size_t slot = submitted_++;
  refs_.push_back(ref);
  completed_++;
  return slot;
}

// REQUIRES: mu_ held.
void ChunkPipeline::PushBatchLocked() {
  if (batch_.lens.empty()) return;
  queue_.push_back(std::move(batch_));
  batch_ = Task{};
}

Result<std::vector<ChunkRef>> ChunkPipeline::Finish() {
  std::unique_lock<std::mutex> l(mu_);
  PushBatchLocked();
  work_cv_.notify_all();
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
    bool skip;
    {
      std::unique_lock<std::mutex> l(mu_);
      work_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      skip = !error_.ok();  // a store error already ended this run: drop the rest
    }
    std::vector<ChunkRef> refs(task.lens.size());
    uint64_t chunks_new = 0, bytes_added = 0;
    Status error;
    size_t off = 0;
    for (size_t i = 0; i < task.lens.size() && !skip && error.ok(); i++) {
      const ByteView chunk(task.data.data() + off, task.lens[i]);
      off += task.lens[i];
      const Hash256 id = Sha256(chunk);
      auto saved = repo_->SaveBlob(BlobType::kData, id, chunk);
      if (!saved.ok()) {
        error = saved.status();
        break;
      }
      refs[i] = ChunkRef{id, task.lens[i]};
      if (saved->added) {
        chunks_new++;
        bytes_added += saved->stored_bytes;
      }
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 0; i < refs.size(); i++) refs_[task.slots[i]] = refs[i];
      chunks_new_ += chunks_new;
      bytes_added_ += bytes_added;
      if (!error.ok() && error_.ok()) error_ = error;
      inflight_bytes_ -= task.data.size();
      completed_ += task.lens.size();
    }
    done_cv_.notify_all();
  }
}

}  // namespace qm
