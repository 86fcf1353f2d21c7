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

void ChunkPipeline::Start(Sink sink) {
  std::lock_guard<std::mutex> l(mu_);
  sink_ = std::move(sink);
}

void ChunkPipeline::DrainLocked(std::unique_lock<std::mutex>& l) {
  std::vector<std::pair<size_t, ChunkRef>>& ready = ready_;  // empty here; keeps its capacity
  while (true) {
    while (!window_.empty() && window_.front()) {
      ready.emplace_back(window_base_++, *window_.front());
      window_.pop_front();
    }
    if (ready.empty()) return;
    if (!error_.ok() || !sink_) {  // the batch failed: nothing more goes on
      ready.clear();
      continue;
    }
    l.unlock();
    Status st;
    for (const auto& [slot, ref] : ready) {
      st = sink_(slot, ref);
      if (!st.ok()) break;
    }
    l.lock();
    if (!st.ok() && error_.ok()) error_ = st;
    ready.clear();
  }
}

void ChunkPipeline::AdmitLocked(std::unique_lock<std::mutex>& l, size_t bytes) {
  // Admit a chunk when the budget allows, or when nothing is in flight (a
  // chunk larger than the budget must still get through); a known chunk
  // (bytes 0) needs room in the window only. Before waiting, hand the
  // partial batch to the workers: it is what they must finish.
  auto admitted = [&] {
    return window_.size() < kMaxWindow &&
           (bytes == 0 || inflight_bytes_ == 0 || inflight_bytes_ + bytes <= max_inflight_bytes_);
  };
  DrainLocked(l);
  while (!admitted()) {
    PushBatchLocked();
    work_cv_.notify_one();
    done_cv_.wait(l);
    DrainLocked(l);
  }
}

size_t ChunkPipeline::Submit(ByteView chunk) {
  std::unique_lock<std::mutex> l(mu_);
  AdmitLocked(l, std::max<size_t>(chunk.size(), 1));
  const size_t slot = submitted_++;
  window_.emplace_back();
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

size_t ChunkPipeline::SubmitKnown(const ChunkRef& ref) {
  std::unique_lock<std::mutex> l(mu_);
  AdmitLocked(l, 0);
  const size_t slot = submitted_++;
  window_.emplace_back(ref);
  completed_++;
  return slot;
}

// REQUIRES: mu_ held.
void ChunkPipeline::PushBatchLocked() {
  if (batch_.lens.empty()) return;
  queue_.push_back(std::move(batch_));
  batch_ = SpareTaskLocked();
}

// REQUIRES: mu_ held.
ChunkPipeline::Task ChunkPipeline::SpareTaskLocked() {
  if (spare_.empty()) {
    Task t;
    t.data.reserve(2 * kBatchBytes);  // a batch ends past kBatchBytes, by its last chunk
    return t;
  }
  Task t = std::move(spare_.back());
  spare_.pop_back();
  return t;
}

Status ChunkPipeline::Finish() {
  std::unique_lock<std::mutex> l(mu_);
  PushBatchLocked();
  work_cv_.notify_all();
  while (true) {
    DrainLocked(l);
    if (window_.empty()) break;  // every chunk stored and handed on
    done_cv_.wait(l);
  }
  submitted_ = completed_ = window_base_ = 0;
  sink_ = nullptr;
  return error_;
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
    if (!skip) {
      std::vector<Hash256> ids(task.lens.size());
      std::vector<ByteView> chunks(task.lens.size());
      size_t off = 0;
      for (size_t i = 0; i < task.lens.size(); i++) {
        chunks[i] = ByteView(task.data.data() + off, task.lens[i]);
        off += task.lens[i];
        ids[i] = Sha256(chunks[i]);
        refs[i] = ChunkRef{ids[i], task.lens[i]};
      }
      // One call per task: its new small chunks (pages) share zstd frames
      // within one run of Repository::kSharedFrameSpan places of the list
      // (the slots).
      auto saved = repo_->SaveBlobs(BlobType::kData, ids.data(), chunks.data(), chunks.size(), task.slots.data());
      if (saved.ok()) {
        chunks_new = saved->blobs_added;
        bytes_added = saved->stored_bytes;
      } else {
        error = saved.status();
      }
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 0; i < refs.size(); i++) window_[task.slots[i] - window_base_] = refs[i];
      chunks_new_ += chunks_new;
      bytes_added_ += bytes_added;
      if (!error.ok() && error_.ok()) error_ = error;
      inflight_bytes_ -= task.data.size();
      completed_ += task.lens.size();
      if (task.data.capacity() <= 2 * kBatchBytes) {  // not one that a large chunk grew
        task.slots.clear();
        task.data.clear();
        task.lens.clear();
        spare_.push_back(std::move(task));
      }
    }
    done_cv_.notify_all();
  }
}

}  // namespace qm
