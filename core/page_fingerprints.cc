#include "core/page_fingerprints.h"

#include <cstring>
#include <string>

#include "core/cache_record.h"
#include "core/coding.h"

namespace qm {
namespace {

constexpr char kMagic[4] = {'Q', 'M', 'F', 'P'};

Status Bad(const std::string& why) {
  return Status::Corruption("page fingerprints: " + why);
}

bool ValidPageSize(uint32_t p) {
  return p >= 512 && p <= 65536 && (p & (p - 1)) == 0;
}

}  // namespace

void PutPageFingerprintsHeader(Bytes* out, uint32_t page_size) {
  const Bytes begin = BeginCacheRecord(kMagic, kPageFingerprintsVersion);
  out->insert(out->end(), begin.begin(), begin.end());
  PutFixed32(out, page_size);
}

void PutPageFingerprintEntry(Bytes* out, const PageFingerprintEntry& e) {
  PutFixed64(out, e.fingerprint);
  PutBytes(out, e.ref.id.View());
  PutFixed32(out, e.ref.raw_len);
}

void PutPageFingerprintsTrailer(Bytes* out, uint64_t count, const Hash256& content_id, Xxh3Hasher* sum) {
  const size_t at = out->size();
  PutFixed64(out, count);
  PutBytes(out, content_id.View());
  sum->Update(ByteView(out->data() + at, out->size() - at));
  PutFixed64(out, sum->Digest());
}

Result<uint32_t> DecodePageFingerprintsHeader(ByteView header) {
  if (header.size() != kPageFingerprintsHeaderSize || std::memcmp(header.data(), kMagic, 4) != 0)
    return Bad("bad magic");
  if (header[4] != kPageFingerprintsVersion) return Bad("unsupported version " + std::to_string(header[4]));
  ByteReader r(header.subspan(5));
  uint32_t page_size = 0;
  if (!r.ReadFixed32(&page_size) || !ValidPageSize(page_size)) return Bad("bad page size");
  return page_size;
}

PageFingerprintEntry DecodePageFingerprintEntry(ByteView entry) {
  PageFingerprintEntry e;
  ByteReader r(entry);
  // The caller passes exactly kPageFingerprintEntrySize bytes: every read succeeds.
  (void)(r.ReadFixed64(&e.fingerprint) && r.ReadHash256(&e.ref.id) && r.ReadFixed32(&e.ref.raw_len));
  return e;
}

Result<PageFingerprintsTrailer> DecodePageFingerprintsTrailer(ByteView trailer, uint64_t file_size) {
  PageFingerprintsTrailer t;
  ByteReader r(trailer);
  if (trailer.size() != kPageFingerprintsTrailerSize || !r.ReadFixed64(&t.count) || !r.ReadHash256(&t.content_id) ||
      !r.ReadFixed64(&t.checksum))
    return Bad("truncated");
  if (file_size < kPageFingerprintsHeaderSize + kPageFingerprintsTrailerSize) return Bad("truncated");
  const uint64_t entries = file_size - kPageFingerprintsHeaderSize - kPageFingerprintsTrailerSize;
  if (entries % kPageFingerprintEntrySize != 0 || t.count != entries / kPageFingerprintEntrySize)
    return Bad("bad count");
  return t;
}

Bytes EncodePageFingerprints(const PageFingerprints& fp) {
  const size_t n = fp.chunks.size();
  Bytes out;
  out.reserve(kPageFingerprintsHeaderSize + n * kPageFingerprintEntrySize + kPageFingerprintsTrailerSize);
  PutPageFingerprintsHeader(&out, fp.page_size);
  auto entry = [&](size_t i) {
    PutPageFingerprintEntry(&out, {fp.chunks[i], i < fp.refs.size() ? fp.refs[i] : ChunkRef{}});
  };
  for (size_t i = 1; i < n; i++) entry(i);
  if (n > 0) entry(0);  // chunk 0 last: the order a capture produces them
  Xxh3Hasher sum;
  sum.Update(out);
  PutPageFingerprintsTrailer(&out, n, fp.content_id, &sum);
  return out;
}

Result<PageFingerprints> DecodePageFingerprints(ByteView data) {
  if (data.size() < kPageFingerprintsHeaderSize) return Bad(data.size() < 5 ? "bad magic" : "truncated");
  // The shared framing first: magic, version, and the checksum over it all.
  QM_RETURN_IF_ERROR(OpenCacheRecord(data, kMagic, kPageFingerprintsVersion, "page fingerprints").status());
  PageFingerprints fp;
  QM_ASSIGN_OR_RETURN(fp.page_size, DecodePageFingerprintsHeader(data.first(kPageFingerprintsHeaderSize)));
  if (data.size() < kPageFingerprintsHeaderSize + kPageFingerprintsTrailerSize) return Bad("truncated");
  QM_ASSIGN_OR_RETURN(PageFingerprintsTrailer t,
                      DecodePageFingerprintsTrailer(data.last(kPageFingerprintsTrailerSize), data.size()));
  fp.content_id = t.content_id;
  const size_t n = static_cast<size_t>(t.count);
  fp.chunks.resize(n);
  fp.refs.resize(n);
  for (size_t k = 0; k < n; k++) {
    const PageFingerprintEntry e = DecodePageFingerprintEntry(
        data.subspan(kPageFingerprintsHeaderSize + k * kPageFingerprintEntrySize, kPageFingerprintEntrySize));
    const size_t i = k + 1 < n ? k + 1 : 0;  // the last entry is chunk 0's
    fp.chunks[i] = e.fingerprint;
    fp.refs[i] = e.ref;
  }
  return fp;
}

}  // namespace qm
