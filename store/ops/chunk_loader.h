// ChunkLoader: a file's chunks, loaded on every core, handed out in order.
//
// A restore (or anything that streams a file out of the store) needs the
// chunks in file order, but loading one is an index lookup, a pack read, a
// zstd frame and a SHA-256 check: ~5 us of CPU for a 4 KiB page, more than
// writing it. Workers load consecutive runs of chunks ("tasks") ahead of
// the reader, at most kTasksAhead beyond the one being read, so memory stays
// bounded (~kTasksAhead x kTaskBytes) however large the file.
//
// Thread-safety: Next() is called by one thread. The destructor stops the
// workers and waits for them.
#pragma once

#include <condition_variable>
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
  static constexpr uint64_t kTaskBytes = 2u << 20;
  static constexpr size_t kTasksAhead = 8;

  // `chunks` must outlive the loader. Loading starts at once on `threads`
  // workers (at least one).
  ChunkLoader(Repository* repo, const std::vector<ChunkRef>& chunks, unsigned threads);
  ~ChunkLoader();
  ChunkLoader(const ChunkLoader&) = delete;
  ChunkLoader& operator=(const ChunkLoader&) = delete;

  // The next run of chunks in file order, one after another in *data, with
  // each chunk's size in *sizes (as its pack recorded it; the caller checks
  // them against its manifest), starting at chunk *first; false once every
  // chunk has been handed out. The first error of a task is returned for
  // that task; do not call again after an error.
  Result<bool> Next(Bytes* data, std::vector<uint32_t>* sizes, size_t* first);

 private:
  struct Task {
    size_t begin = 0, end = 0;
    Bytes data;
    std::vector<uint32_t> sizes;
    Status status;
    bool done = false;
  };
  void Work();

  Repository* repo_;
  const std::vector<ChunkRef>& chunks_;
  std::vector<Task> tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_to_load_ = 0;  // guarded by mu_
  size_t next_to_read_ = 0;  // guarded by mu_
  bool stop_ = false;        // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace qm
