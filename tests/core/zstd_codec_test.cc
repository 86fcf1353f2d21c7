// zstd codec: round trip, and hostile frames refused without overrun.
#include "core/zstd_codec.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace qm {
namespace {

// Decodes `frame` into *out, sized to the `raw_size` the caller expects.
Status Decode(ZstdCodec& codec, ByteView frame, size_t raw_size, Bytes* out) {
  out->resize(raw_size);
  return codec.DecompressTo(frame, out->data(), raw_size);
}

TEST(ZstdCodecTest, CompressibleAndRandomDataRoundTrip) {
  ZstdCodec codec(3);
  for (const std::string& data : {std::string(100000, 'a'), RandomBytes(100000, 1), std::string()}) {
    Bytes c, d;
    ASSERT_TRUE(codec.Compress(AsBytes(data), &c).ok());
    ASSERT_TRUE(Decode(codec, c, data.size(), &d).ok());
    EXPECT_EQ(data, AsString(d));
  }
  Bytes c;
  ASSERT_TRUE(codec.Compress(AsBytes(std::string(100000, 'a')), &c).ok());
  EXPECT_LT(c.size(), 1000u);
}

TEST(ZstdCodecTest, AFrameOfTheWrongSizeIsCorruption) {
  ZstdCodec codec;
  std::string data = RandomBytes(5000, 2);
  Bytes c, d;
  ASSERT_TRUE(codec.Compress(AsBytes(data), &c).ok());
  EXPECT_TRUE(Decode(codec, c, 4999, &d).IsCorruption());
  EXPECT_TRUE(Decode(codec, c, 5001, &d).IsCorruption());
}

TEST(ZstdCodecTest, GarbageAndTruncatedFramesAreCorruption) {
  ZstdCodec codec;
  Bytes d;
  std::string junk = RandomBytes(300, 9);
  EXPECT_TRUE(Decode(codec, AsBytes(junk), 300, &d).IsCorruption());
  Bytes c;
  ASSERT_TRUE(codec.Compress(AsBytes(RandomBytes(5000, 4)), &c).ok());
  c.resize(c.size() / 2);
  EXPECT_TRUE(Decode(codec, c, 5000, &d).IsCorruption());
  // The codec still works after errors.
  ASSERT_TRUE(codec.Compress(AsBytes("abc"), &c).ok());
  ASSERT_TRUE(Decode(codec, c, 3, &d).ok());
}

}  // namespace
}  // namespace qm
