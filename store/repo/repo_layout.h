// Every path inside a repository is built here and nowhere else
// (LevelDB's filename.h). Layout (docs/format.md, "Repository layout"):
//
//   R/config                  text config, written once by init
//   R/lock                    flock()ed by the one writer; holds "pid host time"
//   R/packs/XX/<pack-id>.pack self-describing packs, XX = first two hex digits
//   R/snapshots/<snap-id>     snapshot records; their appearance is the commit
//   R/index/                  RocksDB chunk index (a cache, rebuilt from packs)
//   R/tmp/                    packs being written, archives being imported; stale ones are removed by the next writer
//   R/cache/<key>             local cache files (page fingerprints); never needed to restore
#pragma once

#include <optional>
#include <string>

#include "core/hash.h"

namespace qm {

class RepoLayout {
 public:
  explicit RepoLayout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string ConfigFile() const { return root_ + "/config"; }
  std::string LockFile() const { return root_ + "/lock"; }
  std::string PacksDir() const { return root_ + "/packs"; }
  std::string PackShardDir(const std::string& shard) const { return PacksDir() + "/" + shard; }
  std::string PackShardDir(const Hash256& pack) const { return PackShardDir(pack.Hex().substr(0, 2)); }
  std::string PackFile(const Hash256& pack) const { return PackShardDir(pack) + "/" + pack.Hex() + ".pack"; }
  std::string SnapshotsDir() const { return root_ + "/snapshots"; }
  std::string SnapshotFile(const Hash256& id) const { return SnapshotsDir() + "/" + id.Hex(); }
  std::string IndexDir() const { return root_ + "/index"; }
  std::string TmpDir() const { return root_ + "/tmp"; }
  std::string CacheDir() const { return root_ + "/cache"; }
  std::string CacheFile(const Hash256& key) const { return CacheDir() + "/" + key.Hex(); }

  // "<64 hex>.pack" -> pack id; anything else -> nullopt.
  static std::optional<Hash256> ParsePackFileName(const std::string& name);
  // "<64 hex>" -> snapshot id; anything else (temporaries) -> nullopt.
  static std::optional<Hash256> ParseSnapshotFileName(const std::string& name);

 private:
  std::string root_;
};

}  // namespace qm
