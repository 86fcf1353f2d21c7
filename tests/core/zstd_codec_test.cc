// zstd codec: round trip, and hostile frames refused without overrun.
#include "core/zstd_codec.h"

#include <gtest/gtest.h>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getCParams
#include <zstd.h>

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

// Reference frame: zstd's own choice for `level`, or with the hash and
// chain tables of the level's large-input parameters.
Bytes ZstdFrame(const std::string& data, int level, bool large_tables) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  if (large_tables) {
    const ZSTD_compressionParameters p = ZSTD_getCParams(level, ZSTD_CONTENTSIZE_UNKNOWN, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, static_cast<int>(p.hashLog));
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_chainLog, static_cast<int>(p.chainLog));
  }
  Bytes out(ZSTD_compressBound(data.size()));
  out.resize(ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size()));
  ZSTD_freeCCtx(cctx);
  return out;
}

// Page-like input: order records, their fields varying as a table's do.
std::string PageLikeData(size_t size) {
  static const char* const kSymbols[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"};
  static const char* const kStates[] = {"new", "filled", "partially_filled", "canceled"};
  std::string data;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; data.size() < size; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    data += "order " + std::to_string(1000000 + i) + " " + kSymbols[x % 4] + " " + kStates[(x >> 2) % 4] + " price " +
            std::to_string((x >> 8) % 5000000) + " qty " + std::to_string((x >> 32) % 100000) + ";";
  }
  data.resize(size);
  return data;
}

// Levels 2 and 3 compress a shared frame of 16 pages with the tables zstd
// gives large inputs (13-17% faster on database pages than the smaller
// ones it picks for 64 KiB); a single page is compressed exactly as zstd's
// level would, and so is every size at the other levels.
TEST(ZstdCodecTest, SixtyFourKibFramesAtLevelsTwoAndThreeUseTheLargeInputTables) {
  const std::string frame = PageLikeData(65536), page = PageLikeData(4096);
  for (int level : {1, 2, 3, 4}) {
    ZstdCodec codec(level);
    Bytes c, d;
    ASSERT_TRUE(codec.Compress(AsBytes(frame), &c).ok());
    const bool large = level == 2 || level == 3;
    EXPECT_EQ(c, ZstdFrame(frame, level, large)) << "level " << level;
    if (large) {
      EXPECT_NE(c, ZstdFrame(frame, level, false)) << "level " << level << ": the tables made no difference";
    }
    ASSERT_TRUE(Decode(codec, c, frame.size(), &d).ok());
    EXPECT_EQ(frame, AsString(d));
    ASSERT_TRUE(codec.Compress(AsBytes(page), &c).ok());
    EXPECT_EQ(c, ZstdFrame(page, level, false)) << "level " << level;
  }
}

}  // namespace
}  // namespace qm
