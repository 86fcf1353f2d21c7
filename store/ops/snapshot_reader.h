// Reading one snapshot in place, without restoring it: look a path up,
// walk a directory, stream a file's bytes. What `ls`, `cat`, `find`, `diff`
// and `stats` are built on.
//
// Cost: a lookup loads only the tree blobs on the path to the entry (one
// per directory level) and a file's chunk-list blocks only when its content
// is read, so `cat config.yaml` reads the same few blobs whatever the size
// of the rest of the snapshot. Every blob is verified against its SHA-256
// as it is loaded; streamed content is checked against the file's size and
// content id before the last byte is handed over.
//
// Thread-safety: as Repository's reading calls (concurrent use is fine).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/tree.h"
#include "store/repo/repository.h"

namespace qm {

// Normalises "/data//auth.db/" to "data/auth.db"; "" and "/" are the root.
// InvalidArgument for "." or ".." components.
Result<std::string> CleanSnapshotPath(std::string_view path);

// The entry at `path` (CleanSnapshotPath rules). The root comes back as a
// directory node named "" whose subtree is the root tree. A file's chunk
// list is not loaded (ExpandChunkList does that). NotFound names the path
// and the snapshot.
Result<Node> LookupPath(Repository* repo, const Snapshot& snapshot, std::string_view path);

// Calls `visit` for every entry below directory tree `tree` (depth first,
// in name order), with its path relative to the snapshot root (`prefix`
// joined with the entry's name). Recurses only when `recursive`. Nodes are
// shallow (chunk lists not loaded). A non-OK status from `visit` stops the
// walk and is returned.
Status WalkTree(Repository* repo, const Hash256& tree, const std::string& prefix, bool recursive,
                const std::function<Status(const std::string& path, const Node& node)>& visit);

// Streams a file's bytes to `sink` in order, one chunk at a time, loading
// runs of chunks on every core (store/ops/chunk_loader.h) while `sink`
// handles earlier ones. A shallow file's chunk list is read in pieces,
// never whole. Every chunk is checked against its SHA-256 as it loads; the
// list against the file's chunk count, size and content id before the last
// run is handed over (a run is held until the next has loaded).
Status ReadFileContent(Repository* repo, const Node& file, const std::function<Status(ByteView)>& sink);

}  // namespace qm
