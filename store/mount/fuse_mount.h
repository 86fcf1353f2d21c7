// Serving a SnapshotFs (store/ops/snapshot_fs.h) as a read-only FUSE file
// system with libfuse3: the one place qm-snap speaks FUSE.
#pragma once

#include <functional>
#include <string>

#include "core/status.h"
#include "store/ops/snapshot_fs.h"

namespace qm {

// Mounts `fs` read-only at `mountpoint` (an existing directory) and serves
// requests until SIGINT, SIGTERM or `fusermount3 -u`; then unmounts and
// returns OK. `on_mounted` runs once the mount is in place. NotSupported,
// saying what is missing, when FUSE is unavailable (no /dev/fuse, no
// fusermount3, no permission to mount).
// REQUIRES: `fs` outlives the call; one mount per process at a time.
Status ServeFuse(SnapshotFs* fs, const std::string& mountpoint, const std::function<void()>& on_mounted);

}  // namespace qm
