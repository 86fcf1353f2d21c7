// Snapshot cache: golden bytes, round trip, hostile input.
#include "core/snapshot_cache.h"

#include <gtest/gtest.h>

#include "tests/support/cache_record_checks.h"
#include "tests/support/golden.h"

namespace qm {
namespace {

const std::vector<ByteView> kRecords = {AsBytes("first record"), AsBytes(""), AsBytes("third")};

TEST(SnapshotCacheTest, EncodingRoundTripsAndMatchesGolden) {
  const Bytes enc = EncodeSnapshotCache(kRecords);
  ExpectMatchesGolden("snapshot_cache_v1.bin", enc);
  auto dec = DecodeSnapshotCache(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  ASSERT_EQ(kRecords.size(), dec->size());
  for (size_t i = 0; i < kRecords.size(); i++) EXPECT_EQ(AsString(kRecords[i]), AsString((*dec)[i])) << i;
  auto empty = DecodeSnapshotCache(EncodeSnapshotCache({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(SnapshotCacheTest, EveryTruncationFlippedByteAndBadHeaderIsRejected) {
  ExpectCacheRecordRefusesDamage(
      EncodeSnapshotCache(kRecords), [](ByteView b) { return DecodeSnapshotCache(b).status(); }, 2);
}

// A checksum-valid file whose lengths lie must fail, not read past the end.
TEST(SnapshotCacheTest, LyingLengthsBehindAValidChecksumAreRejected) {
  const Bytes enc = EncodeSnapshotCache({AsBytes("abc")});
  ASSERT_EQ(1, enc[5]);  // the count, after magic and version
  Bytes many = enc;
  many[5] = 100;
  EXPECT_FALSE(DecodeSnapshotCache(ResealCacheRecord(many)).ok()) << "count beyond the bytes";
  Bytes longer = enc;
  longer[6] = 0x7f;  // the record's length
  EXPECT_FALSE(DecodeSnapshotCache(ResealCacheRecord(longer)).ok()) << "record length beyond the bytes";
}

}  // namespace
}  // namespace qm
