// Hash256 (the SHA-256 identity of chunks, trees, packs and snapshots),
// SHA-256 through OpenSSL's EVP API, and xxHash3 fingerprints.
//
// Sha256Hasher is not thread-safe; use one per thread. The free functions are.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"

namespace qm {

struct Hash256 {
  std::array<uint8_t, 32> bytes{};

  // 64 lowercase hex digits.
  std::string Hex() const;
  // The first 8 hex digits, as shown to operators.
  std::string ShortHex() const { return Hex().substr(0, 8); }
  bool IsZero() const;
  ByteView View() const { return ByteView(bytes.data(), bytes.size()); }

  // Exactly 64 hex digits (either case); nullopt otherwise.
  static std::optional<Hash256> FromHex(std::string_view hex);
  // Exactly 32 bytes; nullopt otherwise.
  static std::optional<Hash256> FromBytes(ByteView b);

  auto operator<=>(const Hash256&) const = default;
  bool operator==(const Hash256&) const = default;
};

struct Hash256Hasher {
  size_t operator()(const Hash256& h) const noexcept {
    size_t v;
    static_assert(sizeof(v) <= 32);
    __builtin_memcpy(&v, h.bytes.data(), sizeof(v));
    return v;
  }
};

// SHA-256 of `data` in one call.
Hash256 Sha256(ByteView data);

// Incremental SHA-256 (EVP_MD_CTX underneath, reused across Reset()).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(ByteView data);
  // Returns the digest and resets the hasher for a new message.
  Hash256 Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// XXH3 64-bit, seed 0: a fast fingerprint, never an identity.
uint64_t Xxh3_64(ByteView data);

// Incremental XXH3 64-bit: Digest() of the bytes fed so far equals Xxh3_64
// of them all at once. Not thread-safe.
class Xxh3Hasher {
 public:
  Xxh3Hasher();
  ~Xxh3Hasher();
  Xxh3Hasher(const Xxh3Hasher&) = delete;
  Xxh3Hasher& operator=(const Xxh3Hasher&) = delete;

  void Update(ByteView data);
  uint64_t Digest() const;  // does not reset

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qm
