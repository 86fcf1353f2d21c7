// ChunkLoader: a file's chunks, loaded on every core, handed out in order.
//
// A restore (or anything that streams a file out of the store) needs the
// chunks in file order, but loading one is an index lookup, a pack read, a
// zstd frame and a SHA-256 check: ~5 us of CPU for a 4 KiB page, more than
// writing it. Workers load consecutive runs of chunks ("tasks") ahead of
// the reader, at most kTasksAhead beyond the one being read, so memory stays
// bounded (~kTasksAhead x kTaskBytes) however large the file.
//
// A list held in chunk-list blocks is read in pieces as the tasks need it
// (kBlocksPerPlan blocks, or kIndexBlocksPerPlan index blocks, at a time, by whichever worker runs out of tasks),
// never whole: a 1 GiB database's list is ~223k refs (9 MB). Next() checks
// each chunk's size against its ref as it hands it out, and what only the
// whole list proves (its chunk count, the file's size, its content id) on
// the call that finds no more: that call returns Corruption instead of
// false, so a caller that acts only after it (a restore renaming its file,
// a reader handing over its last run) never acts on a list that is not the
// file's.
//
// Thread-safety: Next() is called by one thread. The destructor stops the
// workers and waits for them.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/tree.h"
#include "store/repo/repository.h"

namespace qm {

class ChunkLoader {
 public:
  static constexpr size_t kTaskChunks = 256;
  // A shared zstd frame lies within one run of kSharedFrameSpan places of
  // a list, starting at a multiple of it (repository.h, SaveBlobs), and a
  // task cut at kTaskChunks starts at a multiple of kTaskChunks: so a task
  // of chunks up to 8 KiB (database pages) holds each frame it touches
  // whole, and a restore decompresses each frame once.
  static_assert(kTaskChunks % Repository::kSharedFrameSpan == 0);
  static constexpr uint64_t kTaskBytes = 2u << 20;
  static constexpr size_t kTasksAhead = 8;
  static constexpr size_t kBlocksPerPlan = 256;     // ~2.5k refs, ~90 KB
  static constexpr size_t kIndexBlocksPerPlan = 2;  // layout 2: ~256 blocks

  // `node` (a file: inline chunks or list blocks) must outlive the loader.
  // Loading starts at once on `threads` workers (at least one).
  ChunkLoader(Repository* repo, const Node& node, unsigned threads);
  ~ChunkLoader();
  ChunkLoader(const ChunkLoader&) = delete;
  ChunkLoader& operator=(const ChunkLoader&) = delete;

  // The next run of chunks in file order, one after another in *data, with
  // each chunk's size in *sizes (as its pack recorded it, checked against
  // the list) and, when `refs` is not null, their refs from the list; false
  // once every chunk has been handed out and the whole list checked. The
  // first error of a task, of reading the list, or of those checks is
  // returned in its place; do not call again after an error. *data's old
  // buffer is kept for a later task.
  Result<bool> Next(Bytes* data, std::vector<uint32_t>* sizes, std::vector<ChunkRef>* refs = nullptr);

 private:
  struct Task {
    std::vector<ChunkRef> refs;
    Bytes data;
    std::vector<uint32_t> sizes;
    Status status;
    bool done = false;
  };
  // Cuts tasks from the next refs of the list (inline, or the next blocks)
  // and appends them. Called by one worker at a time (planning_), without
  // the lock held while blocks are loaded.
  void Plan(std::unique_lock<std::mutex>& l);
  void Work();

  Repository* repo_;
  const Node& node_;
  size_t next_inline_ = 0;       // next chunk of node_.chunks to plan (guarded by planning_)
  size_t next_block_ = 0;        // next list block to plan (guarded by planning_)
  std::vector<ChunkRef> carry_;  // refs read but not yet in a task (guarded by planning_)
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;  // tasks [read_, read_ + size): guarded by mu_
  // Buffers the reader gave back (guarded by mu_), for the next tasks'
  // data: a new 2 MiB buffer per task came from glibc's heap once its mmap
  // threshold had risen, and freed copies stayed resident.
  std::vector<Bytes> spare_;
  size_t read_ = 0;          // tasks handed out (popped)
  size_t next_to_load_ = 0;  // absolute index of the next task to load
  bool planning_ = false;
  bool planned_all_ = false;
  bool stop_ = false;
  // Next()'s own: what the refs handed out so far add up to.
  ContentIdHasher content_;
  uint64_t chunks_out_ = 0;
  uint64_t bytes_out_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace qm
