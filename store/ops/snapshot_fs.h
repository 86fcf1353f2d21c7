// SnapshotFs: the store as a read-only file tree, for `qm-snap mount`
// (store/mount/ serves it over FUSE; this class knows nothing of FUSE).
//
//   /snapshots/YYYY-MM-DDTHH:MM:SS_ID/…   every snapshot (local time, short id)
//   /latest -> snapshots/…                 the newest snapshot
//   /by-tag/TAG/NAME -> ../../snapshots/NAME
//
// The snapshot list is read when the object is created (a fixed view; mount
// again to see newer snapshots). Paths inside a snapshot are resolved by
// loading the trees on the way (cached by id, so snapshots sharing
// directories share the cache); file content is read lazily, chunk by
// chunk, through a small cache of recently read chunks (32 MiB), each
// chunk verified against its SHA-256 as it is loaded. Files and
// directories are presented read-only (write bits cleared).
//
// Thread-safety: all methods may be called concurrently (FUSE's
// multi-threaded loop): one mutex guards the caches and handle table, and is
// not held while chunks load.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/tree.h"
#include "store/repo/repository.h"

namespace qm {

struct FsEntry {
  enum class Type { kDir, kFile, kSymlink };
  Type type = Type::kDir;
  std::string name;
  uint32_t mode = 0555;  // permission bits, write bits cleared
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string link_target;  // symlinks
};

class SnapshotFs {
 public:
  // REQUIRES: `repo` outlives the object.
  static Result<std::unique_ptr<SnapshotFs>> Create(Repository* repo);

  // `path` is absolute within the file system ("/", "/latest", …).
  // NotFound for what does not exist.
  Result<FsEntry> Stat(const std::string& path);
  // Entries of a directory (no "." or ".."). InvalidArgument for a non-directory.
  Result<std::vector<FsEntry>> List(const std::string& path);
  // Opens a file for reading; returns a handle for Read and Release.
  Result<uint64_t> Open(const std::string& path);
  // Up to `n` bytes at `offset`; fewer only at the end of the file.
  Result<size_t> Read(uint64_t handle, uint64_t offset, size_t n, uint8_t* out);
  void Release(uint64_t handle);

  // Directory names under /snapshots, oldest first (for tests and help).
  std::vector<std::string> SnapshotNames() const;

 private:
  explicit SnapshotFs(Repository* repo) : repo_(repo) {}
  struct Resolved {
    bool in_snapshot = false;  // else a synthetic entry (FsEntry filled)
    FsEntry entry;
    Node node;  // in_snapshot: the node (a synthetic dir node for a snapshot root)
  };
  Result<Resolved> Resolve(const std::string& path);
  Result<std::shared_ptr<const Tree>> LoadTree(const Hash256& id);
  Result<std::shared_ptr<const Bytes>> LoadChunk(const Hash256& id);
  static FsEntry EntryOf(const Node& n);

  struct OpenFile {
    Node node;                      // chunk list expanded
    std::vector<uint64_t> offsets;  // offsets[i]: where chunk i starts
  };

  Repository* repo_;
  std::vector<std::pair<std::string, Snapshot>> snapshots_;  // name, snapshot; oldest first
  std::map<std::string, std::vector<std::string>> tags_;     // tag -> snapshot names

  mutable std::mutex mu_;
  std::map<Hash256, std::shared_ptr<const Tree>> trees_;  // bounded: cleared past 4096 trees
  // LRU of chunks by id, bounded by bytes.
  std::list<Hash256> chunk_lru_;
  std::unordered_map<Hash256, std::pair<std::shared_ptr<const Bytes>, std::list<Hash256>::iterator>, Hash256Hasher>
      chunks_;
  uint64_t chunk_bytes_ = 0;
  std::map<uint64_t, std::shared_ptr<OpenFile>> open_;
  uint64_t next_handle_ = 1;
};

}  // namespace qm
