// Snapshot records: golden bytes, round trip, hostile input.
#include "core/snapshot_record.h"

#include <gtest/gtest.h>

#include "tests/support/golden.h"

namespace qm {
namespace {

SnapshotRecord Sample() {
  SnapshotRecord r;
  r.time_unix = 1738130400;
  r.time_nanos = 123;
  r.hostname = "trader-1";
  r.username = "quantmesh";
  r.source = "/opt/quantmesh";
  r.tags = {"daily", "hourly"};
  r.parent = Sha256(AsBytes("parent"));
  r.root_tree = Sha256(AsBytes("root"));
  r.totals = {12, 4, 60000000, 1000000, 250000, 900, 20};
  r.flags = kSnapshotDbsOnly;
  r.program_version = "0.1.0";
  return r;
}

TEST(SnapshotRecordTest, RoundTripsAndMatchesGolden) {
  Bytes enc = EncodeSnapshotRecord(Sample());
  ExpectMatchesGolden("snapshot_v1.bin", enc);
  auto dec = DecodeSnapshotRecord(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(Sample(), *dec);
  SnapshotRecord no_parent = Sample();
  no_parent.parent.reset();
  no_parent.tags.clear();
  auto dec2 = DecodeSnapshotRecord(EncodeSnapshotRecord(no_parent));
  ASSERT_TRUE(dec2.ok());
  EXPECT_EQ(no_parent, *dec2);
}

TEST(SnapshotRecordTest, TruncationTrailingBytesAndBadMagicAreCorruption) {
  Bytes enc = EncodeSnapshotRecord(Sample());
  for (size_t len = 0; len < enc.size(); len++)
    EXPECT_FALSE(DecodeSnapshotRecord(ByteView(enc).first(len)).ok()) << len;
  Bytes more = enc;
  more.push_back(0);
  EXPECT_TRUE(DecodeSnapshotRecord(more).status().IsCorruption());
  Bytes magic = enc;
  magic[0] = 'X';
  EXPECT_TRUE(DecodeSnapshotRecord(magic).status().IsCorruption());
  Bytes version = enc;
  version[6] = 2;
  EXPECT_TRUE(DecodeSnapshotRecord(version).status().IsCorruption());
  for (size_t i = 0; i < enc.size(); i++) {
    Bytes t = enc;
    t[i] ^= 0xff;
    auto r = DecodeSnapshotRecord(t);  // must not crash; may decode
    if (r.ok()) {
      EXPECT_EQ(t, EncodeSnapshotRecord(*r));
    }
  }
}

}  // namespace
}  // namespace qm
