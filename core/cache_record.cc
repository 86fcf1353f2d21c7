#include "core/cache_record.h"

#include <cstring>

#include "core/coding.h"
#include "core/hash.h"

namespace qm {

Hash256 CacheKey(std::initializer_list<std::string_view> parts) {
  std::string name;
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) name += '\0';
    name += p;
    first = false;
  }
  return Sha256(AsBytes(name));
}

Bytes BeginCacheRecord(const char (&magic)[4], uint8_t version) {
  Bytes out(magic, magic + 4);
  out.push_back(version);
  return out;
}

void SealCacheRecord(Bytes* record) {
  PutFixed64(record, Xxh3_64(*record));
}

Result<ByteView> OpenCacheRecord(ByteView data, const char (&magic)[4], uint8_t version, const std::string& what) {
  auto bad = [&](const std::string& why) { return Status::Corruption(what + ": " + why); };
  if (data.size() < 5 || std::memcmp(data.data(), magic, 4) != 0) return bad("bad magic");
  if (data[4] != version) return bad("unsupported version " + std::to_string(data[4]));
  if (data.size() < 5 + 8) return bad("truncated");
  const ByteView body = data.first(data.size() - 8);
  ByteReader tail(data.subspan(data.size() - 8));
  uint64_t sum = 0;
  if (!tail.ReadFixed64(&sum) || sum != Xxh3_64(body)) return bad("checksum mismatch (torn or damaged)");
  return body.subspan(5);
}

}  // namespace qm
