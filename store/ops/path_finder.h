// find: which snapshots hold a path matching a glob pattern.
//
// The pattern (fnmatch(3), no FNM_PATHNAME) is matched against each entry's
// path relative to the source and against its base name, so "*.db",
// "config.yaml" and "logs/*2025-01-29*" all work. A directory tree shared
// by several snapshots is searched once.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "store/repo/repository.h"

namespace qm {

struct FoundPath {
  Snapshot snapshot;
  std::string path;
  NodeType type = NodeType::kFile;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

// Matches in every snapshot, oldest snapshot first, paths in tree order.
Result<std::vector<FoundPath>> FindPaths(Repository* repo, const std::string& pattern);

}  // namespace qm
