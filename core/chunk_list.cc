#include "core/chunk_list.h"

#include <cstring>
#include <string>

#include "core/coding.h"
#include "core/pack_format.h"

namespace qm {

namespace {
constexpr char kMagic[4] = {'Q', 'M', 'C', 'L'};
constexpr uint8_t kVersion = 1;
constexpr char kIndexMagic[4] = {'Q', 'M', 'C', 'X'};
constexpr uint8_t kIndexVersion = 1;
}  // namespace

std::vector<std::pair<size_t, size_t>> SplitChunkList(const std::vector<ChunkRef>& chunks) {
  std::vector<std::pair<size_t, size_t>> blocks;
  size_t start = 0;
  for (size_t i = 0; i < chunks.size(); i++) {
    if (ChunkListCutAfter(chunks[i], i + 1 - start)) {
      blocks.emplace_back(start, i + 1);
      start = i + 1;
    }
  }
  if (start < chunks.size()) blocks.emplace_back(start, chunks.size());
  return blocks;
}

Bytes EncodeChunkList(const ChunkRef* refs, size_t count) {
  Bytes out(kMagic, kMagic + 4);
  out.push_back(kVersion);
  PutVarint64(&out, count);
  for (size_t i = 0; i < count; i++) {
    PutBytes(&out, refs[i].id.View());
    PutVarint64(&out, refs[i].raw_len);
  }
  return out;
}

Status DecodeChunkList(ByteView data, std::vector<ChunkRef>* out) {
  if (data.size() < 5 || std::memcmp(data.data(), kMagic, 4) != 0) return Status::Corruption("chunk list: bad magic");
  if (data[4] != kVersion) return Status::Corruption("chunk list: unsupported version " + std::to_string(data[4]));
  ByteReader r(data.subspan(5));
  uint64_t n;
  if (!r.ReadVarint64(&n) || n == 0 || n > kChunkListMaxRefs || n > r.remaining() / 33)
    return Status::Corruption("chunk list: bad count");
  for (uint64_t i = 0; i < n; i++) {
    ChunkRef c;
    if (!r.ReadHash256(&c.id) || !r.ReadVarint32(&c.raw_len, kMaxBlobSize))
      return Status::Corruption("chunk list: truncated");
    out->push_back(c);
  }
  if (!r.empty()) return Status::Corruption("chunk list: trailing bytes");
  return Status::OK();
}

Bytes EncodeChunkListIndex(const ChunkListLeaf* leaves, size_t count) {
  Bytes out(kIndexMagic, kIndexMagic + 4);
  out.push_back(kIndexVersion);
  PutVarint64(&out, count);
  for (size_t i = 0; i < count; i++) {
    PutBytes(&out, leaves[i].id.View());
    PutVarint64(&out, leaves[i].refs);
  }
  return out;
}

Status DecodeChunkListIndex(ByteView data, std::vector<ChunkListLeaf>* out) {
  if (data.size() < 5 || std::memcmp(data.data(), kIndexMagic, 4) != 0)
    return Status::Corruption("chunk-list index: bad magic");
  if (data[4] != kIndexVersion)
    return Status::Corruption("chunk-list index: unsupported version " + std::to_string(data[4]));
  ByteReader r(data.subspan(5));
  uint64_t n;
  if (!r.ReadVarint64(&n) || n == 0 || n > kChunkListIndexMaxLeaves || n > r.remaining() / 33)
    return Status::Corruption("chunk-list index: bad count");
  for (uint64_t i = 0; i < n; i++) {
    ChunkListLeaf l;
    if (!r.ReadHash256(&l.id) || !r.ReadVarint32(&l.refs, kChunkListMaxRefs))
      return Status::Corruption("chunk-list index: truncated or bad leaf");
    if (l.refs == 0) return Status::Corruption("chunk-list index: empty leaf");
    out->push_back(l);
  }
  if (!r.empty()) return Status::Corruption("chunk-list index: trailing bytes");
  return Status::OK();
}

}  // namespace qm
