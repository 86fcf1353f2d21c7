#include "core/page_fingerprints.h"

#include <string>

#include "core/cache_record.h"
#include "core/coding.h"

namespace qm {
namespace {

constexpr char kMagic[4] = {'Q', 'M', 'F', 'P'};
constexpr size_t kPerChunk = 8 + 32 + 4;  // fingerprint, chunk id, raw length

Status Bad(const std::string& why) {
  return Status::Corruption("page fingerprints: " + why);
}

}  // namespace

Bytes EncodePageFingerprints(const PageFingerprints& fp) {
  Bytes out = BeginCacheRecord(kMagic, kPageFingerprintsVersion);
  out.reserve(64 + fp.chunks.size() * kPerChunk);
  PutBytes(&out, fp.content_id.View());
  PutFixed32(&out, fp.page_size);
  PutVarint64(&out, fp.chunks.size());
  for (size_t i = 0; i < fp.chunks.size(); i++) {
    PutFixed64(&out, fp.chunks[i]);
    const ChunkRef& r = i < fp.refs.size() ? fp.refs[i] : ChunkRef{};
    PutBytes(&out, r.id.View());
    PutFixed32(&out, r.raw_len);
  }
  SealCacheRecord(&out);
  return out;
}

Result<PageFingerprints> DecodePageFingerprints(ByteView data) {
  QM_ASSIGN_OR_RETURN(ByteView body, OpenCacheRecord(data, kMagic, kPageFingerprintsVersion, "page fingerprints"));
  ByteReader r(body);
  PageFingerprints fp;
  if (!r.ReadHash256(&fp.content_id) || !r.ReadFixed32(&fp.page_size)) return Bad("truncated header");
  if (fp.page_size < 512 || fp.page_size > 65536 || (fp.page_size & (fp.page_size - 1)) != 0)
    return Bad("bad page size");
  uint64_t n;
  if (!r.ReadVarint64(&n) || r.remaining() % kPerChunk != 0 || n != r.remaining() / kPerChunk) return Bad("bad count");
  fp.chunks.resize(static_cast<size_t>(n));
  fp.refs.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < n; i++) {
    if (!r.ReadFixed64(&fp.chunks[i]) || !r.ReadHash256(&fp.refs[i].id) || !r.ReadFixed32(&fp.refs[i].raw_len))
      return Bad("truncated");
  }
  return fp;
}

}  // namespace qm
