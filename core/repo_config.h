// The repository's `config` file: a human-readable text file, written once
// by `init`. First line "qm-snap repository v1", then "key = value" lines
// (docs/format.md, "Repository config"). Unknown keys are Corruption so an
// older binary never misreads a newer repository.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/fastcdc_chunker.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

struct RepoConfig {
  uint32_t version = 1;
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
