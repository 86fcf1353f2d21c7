// Parent trees: golden bytes, round trip, hostile input.
#include "core/parent_trees.h"

#include <gtest/gtest.h>

#include "core/coding.h"
#include "tests/support/golden.h"

namespace qm {
namespace {

const char* const kTrees[] = {"root tree", "", "data dir tree"};

ParentTrees Sample() {
  ParentTrees pt;
  pt.root_tree = Sha256(AsBytes(kTrees[0]));
  pt.packs_stamp = Sha256(AsBytes("packs"));
  pt.pack_removals = 3;
  for (const char* t : kTrees) pt.trees.emplace_back(Sha256(AsBytes(t)), AsBytes(t));
  return pt;
}

void ExpectSame(const ParentTrees& want, const ParentTrees& got) {
  EXPECT_EQ(want.root_tree, got.root_tree);
  EXPECT_EQ(want.packs_stamp, got.packs_stamp);
  EXPECT_EQ(want.pack_removals, got.pack_removals);
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

TEST(ParentTreesTest, UnknownRemovalCountRoundTrips) {
  ParentTrees pt = Sample();
  pt.pack_removals.reset();
  pt.trees.clear();
  const Bytes enc = EncodeParentTrees(pt);
  auto dec = DecodeParentTrees(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  ExpectSame(pt, *dec);
}

TEST(ParentTreesTest, EveryTruncationFlippedByteAndBadHeaderIsRejected) {
  const Bytes enc = EncodeParentTrees(Sample());
  for (size_t n = 0; n < enc.size(); n++) {
    EXPECT_FALSE(DecodeParentTrees(ByteView(enc.data(), n)).ok()) << "truncated to " << n;
  }
  Bytes longer = enc;
  longer.push_back(0);
  EXPECT_FALSE(DecodeParentTrees(longer).ok()) << "trailing byte";
  Bytes bad_version = enc;
  bad_version[4] = 2;
  EXPECT_FALSE(DecodeParentTrees(bad_version).ok()) << "unknown version";
  for (size_t i = 0; i < enc.size(); i++) {
    Bytes flipped = enc;
    flipped[i] ^= 0x10;
    EXPECT_FALSE(DecodeParentTrees(flipped).ok()) << "flipped byte " << i << ": the checksum covers it";
  }
}

// A checksum-valid record whose lengths lie must fail, not read past the end.
TEST(ParentTreesTest, LyingLengthsBehindAValidChecksumAreRejected) {
  auto reseal = [](Bytes b) {
    b.resize(b.size() - 8);
    PutFixed64(&b, Xxh3_64(b));
    return b;
  };
  ParentTrees one;
  one.trees.emplace_back(Sha256(AsBytes("t")), AsBytes("t"));
  Bytes enc = EncodeParentTrees(one);
  // 4 magic + 1 version + 64 ids + 1 flag + 1 removals varint: the count.
  const size_t count_at = 4 + 1 + 64 + 1 + 1;
  ASSERT_EQ(1, enc[count_at]);
  Bytes many = enc;
  many[count_at] = 100;
  EXPECT_FALSE(DecodeParentTrees(reseal(many)).ok()) << "count beyond the bytes";
  Bytes longer = enc;
  longer[count_at + 1 + 32] = 0x7f;  // the tree's length
  EXPECT_FALSE(DecodeParentTrees(reseal(longer)).ok()) << "tree length beyond the bytes";
  Bytes flag = enc;
  flag[count_at - 2] = 2;
  EXPECT_FALSE(DecodeParentTrees(reseal(flag)).ok()) << "removals flag neither 0 nor 1";
}

}  // namespace
}  // namespace qm
