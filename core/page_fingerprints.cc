#include "core/page_fingerprints.h"

#include <cstring>
#include <string>

#include "core/coding.h"

namespace qm {
namespace {

constexpr char kMagic[4] = {'Q', 'M', 'F', 'P'};

Status Bad(const std::string& why) {
  return Status::Corruption("page fingerprints: " + why);
}

}  // namespace

Bytes EncodePageFingerprints(const PageFingerprints& fp) {
  Bytes out(kMagic, kMagic + 4);
  out.push_back(kPageFingerprintsVersion);
  PutBytes(&out, fp.content_id.View());
  for (int i = 0; i < 4; i++) out.push_back(static_cast<uint8_t>(fp.page_size >> (8 * i)));
  PutVarint64(&out, fp.chunks.size());
  for (uint64_t x : fp.chunks)
    for (int i = 0; i < 8; i++) out.push_back(static_cast<uint8_t>(x >> (8 * i)));
  return out;
}

Result<PageFingerprints> DecodePageFingerprints(ByteView data) {
  if (data.size() < 5 || std::memcmp(data.data(), kMagic, 4) != 0) return Bad("bad magic");
  if (data[4] != kPageFingerprintsVersion) return Bad("unsupported version " + std::to_string(data[4]));
  ByteReader r(data.subspan(5));
  PageFingerprints fp;
  ByteView id, ps;
  if (!r.ReadBytes(32, &id) || !r.ReadBytes(4, &ps)) return Bad("truncated header");
  fp.content_id = *Hash256::FromBytes(id);
  fp.page_size = static_cast<uint32_t>(ps[0]) | static_cast<uint32_t>(ps[1]) << 8 | static_cast<uint32_t>(ps[2]) << 16 |
                 static_cast<uint32_t>(ps[3]) << 24;
  if (fp.page_size < 512 || fp.page_size > 65536 || (fp.page_size & (fp.page_size - 1)) != 0)
    return Bad("bad page size");
  uint64_t n;
  if (!r.ReadVarint64(&n) || n != r.remaining() / 8 || r.remaining() % 8 != 0) return Bad("bad count");
  fp.chunks.resize(static_cast<size_t>(n));
  for (uint64_t& x : fp.chunks) {
    ByteView b;
    if (!r.ReadBytes(8, &b)) return Bad("truncated");
    x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | b[i];
  }
  return fp;
}

}  // namespace qm
