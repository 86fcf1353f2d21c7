// Export archive compression: independent blocks that standard decoders
// read back as one stream, with output fixed by input, format and level.
#include "core/block_codec.h"

#include <gtest/gtest.h>
#include <libdeflate.h>
#include <lzma.h>
#include <zstd.h>

#include "tests/support/test_util.h"

namespace qm {
namespace {

// Decodes a file of gzip members, member by member, as gzip -d does.
Bytes GunzipAll(const Bytes& in) {
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  Bytes out;
  size_t pos = 0;
  while (pos < in.size()) {
    Bytes part(8 << 20);
    size_t used = 0, produced = 0;
    const auto r =
        libdeflate_gzip_decompress_ex(d, in.data() + pos, in.size() - pos, part.data(), part.size(), &used, &produced);
    EXPECT_EQ(r, LIBDEFLATE_SUCCESS);
    if (r != LIBDEFLATE_SUCCESS) break;
    out.insert(out.end(), part.begin(), part.begin() + produced);
    pos += used;
  }
  libdeflate_free_decompressor(d);
  return out;
}

Bytes Unzstd(const Bytes& in, size_t size) {
  Bytes out(size + 1);
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());  // reads every frame
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

Bytes Unxz(const Bytes& in, size_t size) {
  Bytes out(size + 1);
  uint64_t memlimit = UINT64_MAX;
  size_t in_pos = 0, out_pos = 0;
  const lzma_ret r = lzma_stream_buffer_decode(&memlimit, LZMA_CONCATENATED, nullptr, in.data(), &in_pos, in.size(),
                                               out.data(), &out_pos, out.size());
  EXPECT_EQ(r, LZMA_OK);
  out.resize(out_pos);
  return out;
}

std::vector<Bytes> Blocks() {
  std::string a = RandomBytes(300000, 1);
  std::string b(500000, 'q');
  std::string c = RandomBytes(17, 2);
  return {Bytes(a.begin(), a.end()), Bytes(b.begin(), b.end()), Bytes(c.begin(), c.end()), Bytes()};
}

Bytes Concat(const std::vector<Bytes>& v) {
  Bytes all;
  for (const Bytes& b : v) all.insert(all.end(), b.begin(), b.end());
  return all;
}

class BlockCodecTest : public ::testing::TestWithParam<ArchiveCompression> {};

TEST_P(BlockCodecTest, ConcatenatedBlocksDecodeAsOneStream) {
  BlockCompressor c(GetParam(), DefaultArchiveLevel(GetParam()));
  Bytes file;
  for (const Bytes& b : Blocks()) {
    Bytes out;
    ASSERT_TRUE(c.Compress(b, &out).ok());
    file.insert(file.end(), out.begin(), out.end());
  }
  const Bytes expect = Concat(Blocks());
  switch (GetParam()) {
    case ArchiveCompression::kGzip: EXPECT_EQ(GunzipAll(file), expect); break;
    case ArchiveCompression::kZstd: EXPECT_EQ(Unzstd(file, expect.size()), expect); break;
    case ArchiveCompression::kXz: EXPECT_EQ(Unxz(file, expect.size()), expect); break;
  }
}

TEST_P(BlockCodecTest, OutputDependsOnlyOnInputFormatAndLevel) {
  BlockCompressor a(GetParam(), DefaultArchiveLevel(GetParam()));
  BlockCompressor b(GetParam(), DefaultArchiveLevel(GetParam()));
  Bytes x, y, z;
  const Bytes in = Blocks()[0];
  ASSERT_TRUE(a.Compress(Blocks()[1], &z).ok());  // a used before: no state carries over
  ASSERT_TRUE(a.Compress(in, &x).ok());
  ASSERT_TRUE(b.Compress(in, &y).ok());
  EXPECT_EQ(x, y);
}

INSTANTIATE_TEST_SUITE_P(Formats, BlockCodecTest,
                         ::testing::Values(ArchiveCompression::kGzip, ArchiveCompression::kZstd,
                                           ArchiveCompression::kXz));

TEST(BlockCodec, GzipMemberHeaderHasNoNameAndNoTime) {
  BlockCompressor c(ArchiveCompression::kGzip, 6);
  Bytes out;
  ASSERT_TRUE(c.Compress(Blocks()[1], &out).ok());
  ASSERT_GE(out.size(), 18u);
  const Bytes header(out.begin(), out.begin() + 10);
  EXPECT_EQ(header, (Bytes{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}));
}

TEST(BlockCodec, FormatsAndLevelsAreValidated) {
  EXPECT_EQ(*ParseArchiveFormat("tar.gz"), ArchiveCompression::kGzip);
  EXPECT_EQ(*ParseArchiveFormat("tar.zst"), ArchiveCompression::kZstd);
  EXPECT_EQ(*ParseArchiveFormat("xz"), ArchiveCompression::kXz);
  EXPECT_FALSE(ParseArchiveFormat("zip").ok());
  EXPECT_TRUE(CheckArchiveLevel(ArchiveCompression::kGzip, 12).ok());
  EXPECT_FALSE(CheckArchiveLevel(ArchiveCompression::kGzip, 13).ok());
  EXPECT_FALSE(CheckArchiveLevel(ArchiveCompression::kZstd, 0).ok());
  EXPECT_TRUE(CheckArchiveLevel(ArchiveCompression::kXz, 0).ok());
  EXPECT_NE(CheckArchiveLevel(ArchiveCompression::kGzip, 20).message().find("1..12"), std::string::npos);
}

}  // namespace
}  // namespace qm
