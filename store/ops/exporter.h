// Export: one snapshot -> the guide's offsite archive, YYYYMMDD_HHMMSS.tar.gz
// and YYYYMMDD_HHMMSS.sha256 (docs/archive-format.md).
//
// Streaming: chunks are read from the store window by window, tar-framed,
// cut into 4 MiB blocks and compressed on every core; nothing of the
// snapshot is copied to disk first, and memory is bounded by the number of
// blocks in flight (2 per thread), whatever the snapshot's size.
//
// Deterministic: entries in tree order, owner root/0, times from the
// snapshot, no time in the compressed stream, name and top folder from the
// snapshot's time in UTC. The same snapshot, format and level give the same
// bytes on any machine and with any number of threads.
//
// Durability: on OK both files are complete, fsynced and under their final
// names (the archive is written to a temporary name first; the checksum file
// appears after the archive). On failure neither final name was created or
// replaced by a partial file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/block_codec.h"
#include "core/result.h"
#include "store/ops/progress.h"
#include "store/repo/repository.h"

namespace qm {

struct ExportOptions {
  std::string output_dir;  // created if missing (0700)
  ArchiveCompression compression = ArchiveCompression::kGzip;
  int level = -1;        // -1: DefaultArchiveLevel
  unsigned threads = 0;  // 0: one per core
  // Local retention: after a successful export, archives in output_dir named
  // YYYYMMDD_HHMMSS.tar.{gz,zst,xz} (and their .sha256) whose modification
  // time is more than keep_days days old are removed; nothing else is
  // touched. Negative: keep everything.
  int keep_days = 30;
};

struct ExportResult {
  std::string name;           // "20250129_143022"
  std::string archive_path;   // output_dir/name.tar.gz
  std::string checksum_path;  // output_dir/name.sha256
  Hash256 archive_sha256;
  uint64_t archive_bytes = 0;  // compressed size
  uint64_t tar_bytes = 0;      // uncompressed tar stream
  uint64_t files = 0;
  uint64_t data_bytes = 0;           // file contents
  std::vector<std::string> removed;  // by retention
  double duration_s = 0;
};

Result<ExportResult> Export(Repository* repo, const Snapshot& snapshot, const ExportOptions& options,
                            ProgressSink* progress);

}  // namespace qm
