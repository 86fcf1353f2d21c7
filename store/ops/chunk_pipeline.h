// ChunkPipeline: SHA-256, deduplication, zstd and pack writing of data
// chunks on worker threads, while the caller keeps reading and cutting.
//
// Data flows one way: the archiver Submit()s chunks in file order; workers
// hash each one and hand it to Repository::SaveBlob (which looks it up,
// compresses it outside its lock and appends it to the open pack); the refs
// go on, in submission order, to the batch's sink (the chunk-list writer).
// Nothing calls back into the reader.
//
// Bounded: Submit blocks while more than `max_inflight_bytes` of submitted
// chunks are not yet stored, and while kMaxWindow refs wait for an earlier
// chunk, so memory grows neither with the file nor with its list of refs.
//
// Errors: the first store or sink error is kept and returned by Finish();
// chunks submitted after it are dropped without being stored, and the sink
// is not called again in that batch. On error nothing is committed by the
// pipeline itself (the caller does not commit a snapshot).
//
// Thread-safety: one producer thread calls Start/Submit/Finish, and the sink
// runs on that thread, inside those calls, without the pipeline's lock; the
// workers are internal. The destructor waits for the workers.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/tree.h"
#include "store/repo/repository.h"

namespace qm {

class ChunkPipeline {
 public:
  // Chunks in flight by default: 32 batches, enough for two workers and the
  // reader on chunks of up to 2 MiB (database chunks are at most 64 KiB,
  // plain files' 256 KiB unless the repository says otherwise).
  static constexpr size_t kDefaultInflightBytes = 8u << 20;
  // The budget for a store whose chunks may be `max_chunk` bytes (the
  // repository's chunker_max, up to 64 MiB): room for four of them, so that
  // with larger chunks the workers and the reader still do not take turns.
  static size_t InflightBudgetFor(size_t max_chunk) { return std::max(kDefaultInflightBytes, 4 * max_chunk); }

  // threads = 0: one per core.
  ChunkPipeline(Repository* repo, unsigned threads, size_t max_inflight_bytes = kDefaultInflightBytes);
  ~ChunkPipeline();
  ChunkPipeline(const ChunkPipeline&) = delete;
  ChunkPipeline& operator=(const ChunkPipeline&) = delete;

  // Receives each stored chunk's position in the batch and its ref, in
  // submission order. An error ends the batch (Finish returns it).
  using Sink = std::function<Status(size_t slot, const ChunkRef& ref)>;
  // Begins a batch whose refs go to `sink`. REQUIRES: no batch open.
  void Start(Sink sink);
  // Queues a copy of `chunk`; returns its position in the batch.
  size_t Submit(ByteView chunk);
  // Takes the next position for a chunk already known to be stored (its
  // ref proven by the caller); no hashing, no store access.
  size_t SubmitKnown(const ChunkRef& ref);
  // Waits for every submitted chunk and hands the rest of the refs to the
  // sink; returns the first store or sink error. Ends the batch.
  Status Finish();

  // Refs held for the sink behind an unstored chunk (reused chunks are not
  // bounded by the byte budget). Submit waits while this many are held.
  // 8192 refs: ~0.4 MB here and as much again in ready_, and still ~32 MB
  // of a database (~4 KiB per chunk) read ahead of the oldest unstored
  // chunk, where the byte budget keeps at most 8 MiB of chunks in flight.
  // At 64k (~3 MB each) an hourly run's window was full at 4 GiB and half
  // full at 1 GiB: memory that grew with the set.
  static constexpr size_t kMaxWindow = 1u << 13;

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
  // Takes a spent task's buffers for the next batch. REQUIRES: mu_ held.
  Task SpareTaskLocked();
  // Hands the refs at the front of the window that are stored to the sink,
  // with the lock released around the calls. REQUIRES: l holds mu_.
  void DrainLocked(std::unique_lock<std::mutex>& l);
  // Waits (draining) until a chunk of `bytes` may be admitted.
  void AdmitLocked(std::unique_lock<std::mutex>& l, size_t bytes);
  void Work();

  Repository* repo_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // tasks queued or stopping
  std::condition_variable done_cv_;  // a task finished
  std::deque<Task> queue_;
  Task batch_;  // being filled by Submit
  // Spent tasks, emptied, with their capacity: a batch grew its buffer by
  // doubling past 128 KiB every 256 KiB of data, and glibc, having raised
  // its mmap threshold, served those from the heap, where the freed copies
  // stayed resident. With large frees returned to the system, a new one
  // per batch cost fresh pages instead. Tasks alive (queued, loading or
  // spare) are bounded by the byte budget, as before.
  std::vector<Task> spare_;
  Sink sink_;
  // DrainLocked's refs ready for the sink, kept between calls: an hourly
  // run drains up to kMaxWindow known refs at a time (~0.4 MB), and a
  // new list per call was a fresh mapping each time. The producer's alone.
  std::vector<std::pair<size_t, ChunkRef>> ready_;
  // Positions [window_base_, submitted_): stored refs not yet handed to the
  // sink, or nullopt while a worker has them.
  std::deque<std::optional<ChunkRef>> window_;
  size_t window_base_ = 0;
  size_t submitted_ = 0;  // in this batch
  size_t completed_ = 0;  // in this batch
  size_t inflight_bytes_ = 0;
  const size_t max_inflight_bytes_;
  Status error_;
  bool stopping_ = false;
  uint64_t chunks_new_ = 0;
  uint64_t bytes_added_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace qm
