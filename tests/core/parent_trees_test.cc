// Parent trees: golden bytes, round trip, hostile input.
#include "core/parent_trees.h"

#include <gtest/gtest.h>

#include "tests/support/cache_record_checks.h"
#include "tests/support/golden.h"

namespace qm {
namespace {

const char* const kTrees[] = {"root tree", "", "data dir tree"};

ParentTrees Sample() {
  ParentTrees pt;
  pt.root_tree = Sha256(AsBytes(kTrees[0]));
  pt.packs_stamp = Sha256(AsBytes("packs"));
  for (const char* t : kTrees) pt.trees.emplace_back(Sha256(AsBytes(t)), AsBytes(t));
  return pt;
}

void ExpectSame(const ParentTrees& want, const ParentTrees& got) {
  EXPECT_EQ(want.root_tree, got.root_tree);
  EXPECT_EQ(want.packs_stamp, got.packs_stamp);
  ASSERT_EQ(want.trees.size(), got.trees.size());
  for (size_t i = 0; i < want.trees.size(); i++) {
    EXPECT_EQ(want.trees[i].first, got.trees[i].first) << i;
    EXPECT_EQ(AsString(want.trees[i].second), AsString(got.trees[i].second)) << i;
  }
}

TEST(ParentTreesTest, EncodingRoundTripsAndMatchesGolden) {
  const Bytes enc = EncodeParentTrees(Sample());
  ExpectMatchesGolden("parent_trees_v1.bin", enc);
  auto dec = DecodeParentTrees(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  ExpectSame(Sample(), *dec);
}

TEST(ParentTreesTest, NoTreesRoundTrips) {
  ParentTrees pt = Sample();
  pt.trees.clear();
  const Bytes enc = EncodeParentTrees(pt);
  auto dec = DecodeParentTrees(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  ExpectSame(pt, *dec);
}

TEST(ParentTreesTest, EveryTruncationFlippedByteAndBadHeaderIsRejected) {
  ExpectCacheRecordRefusesDamage(
      EncodeParentTrees(Sample()), [](ByteView b) { return DecodeParentTrees(b).status(); }, 2);
}

// A checksum-valid record whose lengths lie must fail, not read past the end.
TEST(ParentTreesTest, LyingLengthsBehindAValidChecksumAreRejected) {
  ParentTrees one;
  one.trees.emplace_back(Sha256(AsBytes("t")), AsBytes("t"));
  Bytes enc = EncodeParentTrees(one);
  // 4 magic + 1 version + 64 ids: the count.
  const size_t count_at = 4 + 1 + 64;
  ASSERT_EQ(1, enc[count_at]);
  Bytes many = enc;
  many[count_at] = 100;
  EXPECT_FALSE(DecodeParentTrees(ResealCacheRecord(many)).ok()) << "count beyond the bytes";
  Bytes longer = enc;
  longer[count_at + 1 + 32] = 0x7f;  // the tree's length
  EXPECT_FALSE(DecodeParentTrees(ResealCacheRecord(longer)).ok()) << "tree length beyond the bytes";
}

}  // namespace
}  // namespace qm
