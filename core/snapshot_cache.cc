#include "core/snapshot_cache.h"

#include <string>

#include "core/cache_record.h"
#include "core/coding.h"

namespace qm {
namespace {

constexpr char kMagic[4] = {'Q', 'M', 'S', 'C'};

}  // namespace

Bytes EncodeSnapshotCache(const std::vector<ByteView>& records) {
  size_t total = 32;
  for (const ByteView& r : records) total += 10 + r.size();
  Bytes out = BeginCacheRecord(kMagic, kSnapshotCacheVersion);
  out.reserve(total);
  PutVarint64(&out, records.size());
  for (const ByteView& r : records) PutLengthPrefixed(&out, r);
  SealCacheRecord(&out);
  return out;
}

Result<std::vector<ByteView>> DecodeSnapshotCache(ByteView data) {
  QM_ASSIGN_OR_RETURN(ByteView body, OpenCacheRecord(data, kMagic, kSnapshotCacheVersion, "snapshot cache"));
  ByteReader r(body);
  uint64_t count = 0;
  // Each record takes at least one byte (its length): a count beyond the
  // bytes left is a lie.
  if (!r.ReadVarint64(&count) || count > r.remaining()) return Status::Corruption("snapshot cache: bad count");
  std::vector<ByteView> out;
  out.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; i++) {
    ByteView rec;
    if (!r.ReadLengthPrefixed(&rec)) return Status::Corruption("snapshot cache: truncated record " + std::to_string(i));
    out.push_back(rec);
  }
  if (!r.empty()) return Status::Corruption("snapshot cache: trailing bytes");
  return out;
}

}  // namespace qm
