// The repository's `config` file: a human-readable text file, written by
// `init` (and once more by the first writer of a v1 repository, which raises
// its version). First line "qm-snap repository vN", then "key = value" lines
// (docs/format.md, "Repository config"). Unknown keys and versions are
// Corruption so an older binary never misreads a newer repository.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/fastcdc_chunker.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

// v1: every pack is pack format v1. v2: packs may be format v2 (small blobs
// sharing zstd frames), which binaries that read only v1 cannot decode.
inline constexpr uint32_t kRepoVersionOldest = 1;
inline constexpr uint32_t kRepoVersionCurrent = 2;

struct RepoConfig {
  uint32_t version = kRepoVersionCurrent;
  Hash256 repo_id;
  ChunkerParams chunker;
  int zstd_level = 3;
  uint64_t pack_target_size = 16u << 20;
  bool operator==(const RepoConfig&) const = default;
};

std::string EncodeRepoConfig(const RepoConfig& cfg);
// Validates ranges: chunker params as FastCdcChunker requires, zstd level
// 1..19, pack target 1 MiB..1 GiB.
Result<RepoConfig> DecodeRepoConfig(ByteView data);

}  // namespace qm
