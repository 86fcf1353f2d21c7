// Fixed-width little-endian and varint encoding, and a bounds-checked reader
// for decoding hostile input. Pure functions; no allocation beyond the output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/hash.h"

namespace qm {

void PutFixed32(Bytes* dst, uint32_t v);
void PutFixed64(Bytes* dst, uint64_t v);
void PutVarint64(Bytes* dst, uint64_t v);
// Signed values are zigzag-encoded before varint encoding.
void PutVarsint64(Bytes* dst, int64_t v);
// varint length, then the bytes.
void PutLengthPrefixed(Bytes* dst, ByteView v);
void PutLengthPrefixed(Bytes* dst, std::string_view v);
void PutBytes(Bytes* dst, ByteView v);

uint32_t DecodeFixed32(const uint8_t* p);
uint64_t DecodeFixed64(const uint8_t* p);

// Reads from a view it does not own. Every method returns false (and leaves
// the reader in an unspecified position) when the input is too short or a
// varint is malformed (more than 10 bytes, or overflowing 64 bits); callers
// turn false into Status::Corruption with their own context.
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}

  bool ReadU8(uint8_t* v);
  bool ReadFixed32(uint32_t* v);
  bool ReadFixed64(uint64_t* v);
  bool ReadVarint64(uint64_t* v);
  bool ReadVarsint64(int64_t* v);
  // A varint no larger than `max`; false otherwise.
  bool ReadVarint32(uint32_t* v, uint32_t max = UINT32_MAX);
  // `n` raw bytes, as a view into the input.
  bool ReadBytes(size_t n, ByteView* out);
  // A 32-byte id (SHA-256), as stored by PutBytes(id.View()).
  bool ReadHash256(Hash256* out);
  // varint length (at most `max_len`), then that many bytes.
  bool ReadLengthPrefixed(ByteView* out, size_t max_len = SIZE_MAX);
  bool ReadLengthPrefixed(std::string* out, size_t max_len = SIZE_MAX);

  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }

 private:
  ByteView in_;
  size_t pos_ = 0;
};

}  // namespace qm
