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
  ExpectMatchesGolden("page_fingerprints_v2.bin", enc);
  auto dec = DecodePageFingerprints(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(Sample(), *dec);
}

TEST(PageFingerprintsTest, EveryTruncationAndBadHeaderIsRejected) {
  const Bytes enc = EncodePageFingerprints(Sample());
  // Version 1 (fingerprints without refs) is no longer read.
  ExpectCacheRecordRefusesDamage(
      enc, [](ByteView b) { return DecodePageFingerprints(b).status(); }, 1);
  PageFingerprints odd = Sample();
  odd.page_size = 3000;
  EXPECT_FALSE(DecodePageFingerprints(EncodePageFingerprints(odd)).ok()) << "page size not a power of two";
}

}  // namespace
}  // namespace qm
