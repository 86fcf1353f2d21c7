#include "core/coding.h"

#include <cstring>

namespace qm {

void PutFixed32(Bytes* dst, uint32_t v) {
  for (int i = 0; i < 4; i++) dst->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutFixed64(Bytes* dst, uint64_t v) {
  for (int i = 0; i < 8; i++) dst->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutVarint64(Bytes* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<uint8_t>(v));
}

void PutVarsint64(Bytes* dst, int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  PutVarint64(dst, u);
}

void PutBytes(Bytes* dst, ByteView v) {
  dst->insert(dst->end(), v.begin(), v.end());
}

void PutLengthPrefixed(Bytes* dst, ByteView v) {
  PutVarint64(dst, v.size());
  PutBytes(dst, v);
}

void PutLengthPrefixed(Bytes* dst, std::string_view v) {
  PutLengthPrefixed(dst, AsBytes(v));
}

uint32_t DecodeFixed32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

uint64_t DecodeFixed64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

bool ByteReader::ReadU8(uint8_t* v) {
  if (remaining() < 1) return false;
  *v = in_[pos_++];
  return true;
}

bool ByteReader::ReadFixed32(uint32_t* v) {
  if (remaining() < 4) return false;
  *v = DecodeFixed32(in_.data() + pos_);
  pos_ += 4;
  return true;
}

bool ByteReader::ReadFixed64(uint64_t* v) {
  if (remaining() < 8) return false;
  *v = DecodeFixed64(in_.data() + pos_);
  pos_ += 8;
  return true;
}

bool ByteReader::ReadVarint64(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (remaining() < 1) return false;
    uint8_t byte = in_[pos_++];
    uint64_t bits = byte & 0x7f;
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (shift == 63 && bits > 1) return false;
    result |= bits << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool ByteReader::ReadVarsint64(int64_t* v) {
  uint64_t u;
  if (!ReadVarint64(&u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool ByteReader::ReadVarint32(uint32_t* v, uint32_t max) {
  uint64_t u;
  if (!ReadVarint64(&u) || u > max) return false;
  *v = static_cast<uint32_t>(u);
  return true;
}

bool ByteReader::ReadBytes(size_t n, ByteView* out) {
  if (remaining() < n) return false;
  *out = in_.subspan(pos_, n);
  pos_ += n;
  return true;
}

bool ByteReader::ReadHash256(Hash256* out) {
  if (remaining() < out->bytes.size()) return false;
  std::memcpy(out->bytes.data(), in_.data() + pos_, out->bytes.size());
  pos_ += out->bytes.size();
  return true;
}

bool ByteReader::ReadLengthPrefixed(ByteView* out, size_t max_len) {
  uint64_t n;
  if (!ReadVarint64(&n) || n > max_len || n > remaining()) return false;
  return ReadBytes(static_cast<size_t>(n), out);
}

bool ByteReader::ReadLengthPrefixed(std::string* out, size_t max_len) {
  ByteView v;
  if (!ReadLengthPrefixed(&v, max_len)) return false;
  out->assign(reinterpret_cast<const char*>(v.data()), v.size());
  return true;
}

}  // namespace qm
