// Page fingerprints: golden bytes, round trip, hostile input.
#include "core/page_fingerprints.h"

#include <gtest/gtest.h>

#include "tests/support/cache_record_checks.h"
#include "tests/support/golden.h"

namespace qm {
namespace {

PageFingerprints Sample() {
  PageFingerprints fp;
  fp.content_id = Sha256(AsBytes("capture"));
  fp.page_size = 4096;
  fp.chunks = {0, 1, 0x0123456789abcdefull, ~0ull, Xxh3_64(AsBytes("page"))};
  for (size_t i = 0; i < fp.chunks.size(); i++)
    fp.refs.push_back(ChunkRef{Sha256(AsBytes("chunk " + std::to_string(i))), static_cast<uint32_t>(4096 * i)});
  return fp;
}

TEST(PageFingerprintsTest, EncodingRoundTripsAndMatchesGolden) {
  const Bytes enc = EncodePageFingerprints(Sample());
  ExpectMatchesGolden("page_fingerprints_v3.bin", enc);
  auto dec = DecodePageFingerprints(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(Sample(), *dec);
}

TEST(PageFingerprintsTest, EveryTruncationAndBadHeaderIsRejected) {
  const Bytes enc = EncodePageFingerprints(Sample());
  // Versions 1 (fingerprints without refs) and 2 (in file order, count
  // first) are no longer read: the next backup hashes every chunk once.
  for (uint8_t old : {1, 2})
    ExpectCacheRecordRefusesDamage(
        enc, [](ByteView b) { return DecodePageFingerprints(b).status(); }, old);
  PageFingerprints odd = Sample();
  odd.page_size = 3000;
  EXPECT_FALSE(DecodePageFingerprints(EncodePageFingerprints(odd)).ok()) << "page size not a power of two";
}

TEST(PageFingerprintsTest, EntriesComeInCaptureOrderWithChunkZeroLastAndTheTrailerCountsThem) {
  const PageFingerprints fp = Sample();
  const Bytes enc = EncodePageFingerprints(fp);
  const size_t n = fp.chunks.size();
  ASSERT_EQ(kPageFingerprintsHeaderSize + n * kPageFingerprintEntrySize + kPageFingerprintsTrailerSize, enc.size());
  auto page_size = DecodePageFingerprintsHeader(ByteView(enc).first(kPageFingerprintsHeaderSize));
  ASSERT_TRUE(page_size.ok());
  EXPECT_EQ(4096u, *page_size);
  auto entry = [&](size_t j) {
    return DecodePageFingerprintEntry(
        ByteView(enc).subspan(kPageFingerprintsHeaderSize + j * kPageFingerprintEntrySize, kPageFingerprintEntrySize));
  };
  for (size_t k = 1; k < n; k++) EXPECT_EQ((PageFingerprintEntry{fp.chunks[k], fp.refs[k]}), entry(k - 1)) << k;
  EXPECT_EQ((PageFingerprintEntry{fp.chunks[0], fp.refs[0]}), entry(n - 1)) << "page 1's chunk, produced last";
  auto t = DecodePageFingerprintsTrailer(ByteView(enc).last(kPageFingerprintsTrailerSize), enc.size());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(n, t->count);
  EXPECT_EQ(fp.content_id, t->content_id);
  EXPECT_EQ(Xxh3_64(ByteView(enc).first(enc.size() - 8)), t->checksum);
  // A count that does not fit the file's size is refused, one entry either way.
  EXPECT_FALSE(DecodePageFingerprintsTrailer(ByteView(enc).last(kPageFingerprintsTrailerSize),
                                             enc.size() + kPageFingerprintEntrySize)
                   .ok());
  EXPECT_FALSE(DecodePageFingerprintsTrailer(ByteView(enc).last(kPageFingerprintsTrailerSize),
                                             enc.size() - kPageFingerprintEntrySize)
                   .ok());
  EXPECT_FALSE(DecodePageFingerprintsTrailer(ByteView(enc).last(kPageFingerprintsTrailerSize), enc.size() - 1).ok());
  EXPECT_FALSE(DecodePageFingerprintsHeader(ByteView(enc).first(kPageFingerprintsHeaderSize - 1)).ok());
}

TEST(PageFingerprintsTest, StreamingXxh3EqualsOneShot) {
  const std::string data = std::string(100000, 'x') + "tail";
  Xxh3Hasher h;
  for (size_t at = 0; at < data.size(); at += 777)
    h.Update(AsBytes(data).subspan(at, std::min<size_t>(777, data.size() - at)));
  EXPECT_EQ(Xxh3_64(AsBytes(data)), h.Digest());
}

}  // namespace
}  // namespace qm
