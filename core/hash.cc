#include "core/hash.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <cstdlib>

namespace qm {

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string Hash256::Hex() const {
  std::string s(64, '0');
  for (size_t i = 0; i < 32; i++) {
    s[2 * i] = kHexDigits[bytes[i] >> 4];
    s[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return s;
}

bool Hash256::IsZero() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

std::optional<Hash256> Hash256::FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Hash256 h;
  for (size_t i = 0; i < 32; i++) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

std::optional<Hash256> Hash256::FromBytes(ByteView b) {
  if (b.size() != 32) return std::nullopt;
  Hash256 h;
  std::copy(b.begin(), b.end(), h.bytes.begin());
  return h;
}

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

namespace {
// SHA-256 fetched from its provider once for the process. Given the legacy
// EVP_sha256(), OpenSSL 3 fetches the provider's implementation again at
// every EVP_DigestInit_ex, under a process-wide read lock: once per chunk,
// that lock was 2% of a restore's CPU (perf, two threads hashing).
// Never freed: it lives as long as the process.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}
}  // namespace

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  // Allocation failure or a missing SHA-256 in libcrypto cannot be handled
  // meaningfully by any caller; treat it like std::bad_alloc.
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, Sha256Md(), nullptr) != 1) std::abort();
}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(impl_->ctx);
}

void Sha256Hasher::Update(ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1) std::abort();
}

Hash256 Sha256Hasher::Finish() {
  Hash256 h;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, h.bytes.data(), &len) != 1 || len != 32) std::abort();
  if (EVP_DigestInit_ex(impl_->ctx, Sha256Md(), nullptr) != 1) std::abort();
  return h;
}

Hash256 Sha256(ByteView data) {
  thread_local Sha256Hasher hasher;
  hasher.Update(data);
  return hasher.Finish();
}

uint64_t Xxh3_64(ByteView data) {
  return XXH3_64bits(data.data(), data.size());
}

struct Xxh3Hasher::Impl {
  XXH3_state_t* state = nullptr;
};

Xxh3Hasher::Xxh3Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->state = XXH3_createState();
  if (impl_->state == nullptr || XXH3_64bits_reset(impl_->state) != XXH_OK) std::abort();  // as Sha256Hasher
}

Xxh3Hasher::~Xxh3Hasher() {
  XXH3_freeState(impl_->state);
}

void Xxh3Hasher::Update(ByteView data) {
  if (XXH3_64bits_update(impl_->state, data.data(), data.size()) != XXH_OK) std::abort();
}

uint64_t Xxh3Hasher::Digest() const {
  return XXH3_64bits_digest(impl_->state);
}

}  // namespace qm
