// The framing the local cache formats share (docs/format.md, "Page
// fingerprints", "Parent trees"): a 4-byte magic, a version byte, the body,
// and the XXH3-64 (u64le) of every byte before it. The cache is written
// without fsync, so a torn or damaged file is expected and must be refused
// as a whole: the checksum covers everything.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

// The name of a cache file under R/cache/: SHA-256 of `parts` joined by NUL
// bytes (docs/format.md gives each file's parts).
Hash256 CacheKey(std::initializer_list<std::string_view> parts);

// Magic and version: the caller appends the body, then seals it.
Bytes BeginCacheRecord(const char (&magic)[4], uint8_t version);
void SealCacheRecord(Bytes* record);

// The body of a sealed record with this magic and version; Corruption
// ("<what>: bad magic", "unsupported version", "truncated", "checksum
// mismatch") otherwise. The view points into `data`.
Result<ByteView> OpenCacheRecord(ByteView data, const char (&magic)[4], uint8_t version, const std::string& what);

}  // namespace qm
