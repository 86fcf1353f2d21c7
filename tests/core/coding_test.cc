// Varint/fixed encoding round trips, and the reader refusing malformed input.
#include "core/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace qm {
namespace {

TEST(CodingTest, FixedAndVarintValuesRoundTrip) {
  Bytes b;
  const uint64_t values[] = {0, 1, 127, 128, 300, 1u << 31, std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) {
    PutVarint64(&b, v);
    PutFixed64(&b, v);
    PutFixed32(&b, static_cast<uint32_t>(v));
  }
  const int64_t svalues[] = {
      0, -1, 1, -64, 64, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  for (int64_t v : svalues) PutVarsint64(&b, v);
  PutLengthPrefixed(&b, std::string_view("hello"));
  ByteReader r(b);
  for (uint64_t v : values) {
    uint64_t x, y;
    uint32_t z;
    ASSERT_TRUE(r.ReadVarint64(&x));
    ASSERT_TRUE(r.ReadFixed64(&y));
    ASSERT_TRUE(r.ReadFixed32(&z));
    EXPECT_EQ(v, x);
    EXPECT_EQ(v, y);
    EXPECT_EQ(static_cast<uint32_t>(v), z);
  }
  for (int64_t v : svalues) {
    int64_t x;
    ASSERT_TRUE(r.ReadVarsint64(&x));
    EXPECT_EQ(v, x);
  }
  std::string s;
  ASSERT_TRUE(r.ReadLengthPrefixed(&s));
  EXPECT_EQ("hello", s);
  EXPECT_TRUE(r.empty());
}

TEST(CodingTest, FixedEncodingIsLittleEndian) {
  Bytes b;
  PutFixed32(&b, 0x01020304);
  EXPECT_EQ((Bytes{4, 3, 2, 1}), b);
}

TEST(CodingTest, ReaderRefusesTruncatedAndOverlongInput) {
  Bytes b;
  PutVarint64(&b, 1u << 20);
  b.pop_back();
  uint64_t v;
  EXPECT_FALSE(ByteReader(b).ReadVarint64(&v)) << "truncated varint";

  Bytes eleven(11, 0x80);
  EXPECT_FALSE(ByteReader(eleven).ReadVarint64(&v)) << "varint longer than 10 bytes";

  Bytes overflow(9, 0xff);
  overflow.push_back(0x7f);  // tenth byte carries more than the 64th bit
  EXPECT_FALSE(ByteReader(overflow).ReadVarint64(&v));

  Bytes lp;
  PutVarint64(&lp, 100);
  lp.push_back('x');
  std::string s;
  EXPECT_FALSE(ByteReader(lp).ReadLengthPrefixed(&s)) << "length beyond the input";
  Bytes small;
  PutLengthPrefixed(&small, std::string_view("abcdef"));
  EXPECT_FALSE(ByteReader(small).ReadLengthPrefixed(&s, 5)) << "length beyond the caller's bound";

  Bytes big;
  PutVarint64(&big, 70000);
  uint32_t u;
  EXPECT_FALSE(ByteReader(big).ReadVarint32(&u, 65535));
  uint32_t f;
  EXPECT_FALSE(ByteReader(Bytes{1, 2, 3}).ReadFixed32(&f));
}

}  // namespace
}  // namespace qm
