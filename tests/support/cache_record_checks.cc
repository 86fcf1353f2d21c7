#include "tests/support/cache_record_checks.h"

#include "core/coding.h"
#include "core/hash.h"

namespace qm {

void ExpectCacheRecordRefusesDamage(ByteView enc, const std::function<Status(ByteView)>& decode, uint8_t bad_version) {
  ASSERT_TRUE(decode(enc).ok()) << "the valid encoding itself";
  for (size_t n = 0; n < enc.size(); n++) EXPECT_FALSE(decode(enc.first(n)).ok()) << "truncated to " << n;
  Bytes longer(enc.begin(), enc.end());
  longer.push_back(0);
  EXPECT_FALSE(decode(longer).ok()) << "trailing byte";
  Bytes versioned(enc.begin(), enc.end());
  versioned[4] = bad_version;
  EXPECT_FALSE(decode(versioned).ok()) << "version " << int{bad_version};
  for (size_t i = 0; i < enc.size(); i++) {
    Bytes flipped(enc.begin(), enc.end());
    flipped[i] ^= 0x10;
    EXPECT_FALSE(decode(flipped).ok()) << "flipped byte " << i << ": the checksum covers it";
  }
}

Bytes ResealCacheRecord(Bytes record) {
  record.resize(record.size() - 8);
  PutFixed64(&record, Xxh3_64(record));
  return record;
}

}  // namespace qm
