// SQLite capture extension: golden bytes, round trip, hostile input.
#include "core/sqlite_extension.h"

#include <gtest/gtest.h>

#include "tests/support/golden.h"

namespace qm {
namespace {

SqliteCaptureExt Sample() {
  SqliteCaptureExt e;
  e.page_size = 4096;
  e.page_count = 13362;
  e.data_version = 3;
  e.wal = true;
  e.quick_check = "ok";
  e.read_hold_us = 378138;
  e.main = {54730752, 1738130400123456789, 1738130400123456789, 1234567};
  e.wal_file = FileStamp{4124152, 1738130401000000000, 1738130401000000000, 1234568};
  e.stamped_at_ns = 1738130402000000000;
  e.last_check_ns = 1738126802000000000;  // an hour earlier: this capture ran no check
  return e;
}

TEST(SqliteExtensionTest, RoundTripsAndMatchesGolden) {
  Bytes enc = EncodeSqliteCaptureExt(Sample());
  ExpectMatchesGolden("sqlite_ext_v2.bin", enc);
  auto dec = DecodeSqliteCaptureExt(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(Sample(), *dec);
  SqliteCaptureExt no_wal = Sample();
  no_wal.wal_file.reset();
  no_wal.wal = false;
  auto dec2 = DecodeSqliteCaptureExt(EncodeSqliteCaptureExt(no_wal));
  ASSERT_TRUE(dec2.ok());
  EXPECT_EQ(no_wal, *dec2);
}

// Repositories written before version 2 hold version 1 records: every one
// of them ran its check, at about the time of its stats.
TEST(SqliteExtensionTest, VersionOneDecodesWithItsCheckTimeAtItsStats) {
  const std::string v1 = ReadGolden("sqlite_ext_v1.bin");
  auto dec = DecodeSqliteCaptureExt(ByteView(reinterpret_cast<const uint8_t*>(v1.data()), v1.size()));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  SqliteCaptureExt want = Sample();
  want.last_check_ns = want.stamped_at_ns;
  EXPECT_EQ(want, *dec);
  for (size_t len = 0; len < v1.size(); len++)
    EXPECT_TRUE(
        DecodeSqliteCaptureExt(ByteView(reinterpret_cast<const uint8_t*>(v1.data()), len)).status().IsCorruption())
        << len;
}

TEST(SqliteExtensionTest, NotRunCheckRoundTrips) {
  SqliteCaptureExt e = Sample();
  e.quick_check.clear();
  auto dec = DecodeSqliteCaptureExt(EncodeSqliteCaptureExt(e));
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(e, *dec);
}

TEST(SqliteExtensionTest, TruncatedTrailingAndBadVersionAreCorruption) {
  Bytes enc = EncodeSqliteCaptureExt(Sample());
  for (size_t len = 0; len < enc.size(); len++)
    EXPECT_TRUE(DecodeSqliteCaptureExt(ByteView(enc).first(len)).status().IsCorruption()) << len;
  Bytes more = enc;
  more.push_back(0);
  EXPECT_TRUE(DecodeSqliteCaptureExt(more).status().IsCorruption());
  for (uint8_t v : {0, 3, 255}) {
    Bytes other = enc;
    other[0] = v;
    EXPECT_TRUE(DecodeSqliteCaptureExt(other).status().IsCorruption()) << int(v);
  }
}

}  // namespace
}  // namespace qm
