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
  return e;
}

TEST(SqliteExtensionTest, RoundTripsAndMatchesGolden) {
  Bytes enc = EncodeSqliteCaptureExt(Sample());
  ExpectMatchesGolden("sqlite_ext_v1.bin", enc);
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

TEST(SqliteExtensionTest, TruncatedTrailingAndBadVersionAreCorruption) {
  Bytes enc = EncodeSqliteCaptureExt(Sample());
  for (size_t len = 0; len < enc.size(); len++)
    EXPECT_TRUE(DecodeSqliteCaptureExt(ByteView(enc).first(len)).status().IsCorruption()) << len;
  Bytes more = enc;
  more.push_back(0);
  EXPECT_TRUE(DecodeSqliteCaptureExt(more).status().IsCorruption());
  Bytes v2 = enc;
  v2[0] = 2;
  EXPECT_TRUE(DecodeSqliteCaptureExt(v2).status().IsCorruption());
}

}  // namespace
}  // namespace qm
