// ChunkPipeline: SHA-256, deduplication, zstd and pack writing of data
// chunks on worker threads, while the caller keeps reading and cutting.
//
// Data flows one way: the archiver Submit()s chunks in file order; workers
// hash each one and hand it to Repository::SaveBlob (which looks it up,
// compresses it outside its lock and appends it to the open pack); Finish()
// returns the refs in submission order. Nothing calls back into the reader.
//
// Bounded: Submit blocks while more than `max_inflight_bytes` of submitted
// chunks are not yet stored, so memory does not grow with the file.
//
// Errors: the first store error is kept and returned by Finish(); chunks
// submitted after it are dropped without being stored. On error nothing is
// committed by the pipeline itself (the caller does not commit a snapshot).
//
// Thread-safety: one producer thread calls Submit/Finish; the workers are
// internal. The destructor waits for the workers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/tree.h"
#include "store/repo/repository.h"

namespace qm {

class ChunkPipeline {
 public:
  // threads = 0: one per core.
  ChunkPipeline(Repository* repo, unsigned threads, size_t max_inflight_bytes = 32u << 20);
  ~ChunkPipeline();
  ChunkPipeline(const ChunkPipeline&) = delete;
  ChunkPipeline& operator=(const ChunkPipeline&) = delete;

  // Queues a copy of `chunk`; returns its position among the chunks
  // submitted since the last Finish().
  size_t Submit(ByteView chunk);
  // Takes the next position for a chunk already known to be stored (its
  // ref proven by the caller); no hashing, no store access.
  size_t SubmitKnown(const ChunkRef& ref);
  // Room for `chunks` more positions before the next Finish(): a 1 GiB
  // database is ~223k of them, and growing the list by doubling copied and
  // faulted it in again and again (perf: 3% of an hourly run's CPU).
  void Reserve(size_t chunks);
  // Waits for every submitted chunk; returns their refs in submission order
  // (or the first error) and starts a new batch.
  Result<std::vector<ChunkRef>> Finish();

  // Totals over the pipeline's life: chunks that were new to the store and
  // the bytes they added.
  uint64_t chunks_new() const { return chunks_new_; }
  uint64_t bytes_added() const { return bytes_added_; }
  unsigned threads() const { return static_cast<unsigned>(workers_.size()); }

 private:
  // Consecutive chunks travel together (up to kBatchBytes), so a 4 KiB
  // database page does not cost a queue round trip and two wake-ups.
  static constexpr size_t kBatchBytes = 256 * 1024;
  struct Task {
    std::vector<size_t> slots;   // positions of the chunks
    Bytes data;                  // the chunks, back to back
    std::vector<uint32_t> lens;  // their lengths
  };
  void PushBatchLocked();
  void Work();

  Repository* repo_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // tasks queued or stopping
  std::condition_variable done_cv_;  // a task finished
  std::deque<Task> queue_;
  Task batch_;                  // being filled by Submit
  std::vector<ChunkRef> refs_;  // by slot
  size_t submitted_ = 0;        // in this batch
  size_t completed_ = 0;        // in this batch
  size_t inflight_bytes_ = 0;
  const size_t max_inflight_bytes_;
  Status error_;
  bool stopping_ = false;
  uint64_t chunks_new_ = 0;
  uint64_t bytes_added_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace qm
