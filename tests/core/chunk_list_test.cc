// Chunk-list blocks and index blocks: content-defined split, round trip,
// golden bytes, hostile input.
#include "core/chunk_list.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/golden.h"

namespace qm {
namespace {

std::vector<ChunkRef> Refs(size_t n, int salt) {
  std::vector<ChunkRef> v;
  for (size_t i = 0; i < n; i++) v.push_back({Sha256(AsBytes(std::to_string(salt) + ":" + std::to_string(i))), 8192});
  return v;
}

std::set<Hash256> BlockIds(const std::vector<ChunkRef>& refs) {
  std::set<Hash256> ids;
  for (auto [b, e] : SplitChunkList(refs)) ids.insert(Sha256(EncodeChunkList(refs.data() + b, e - b)));
  return ids;
}

TEST(ChunkListTest, BlocksCoverTheListWithinBounds) {
  auto refs = Refs(20000, 1);
  auto blocks = SplitChunkList(refs);
  size_t next = 0;
  for (size_t i = 0; i < blocks.size(); i++) {
    EXPECT_EQ(next, blocks[i].first);
    const size_t len = blocks[i].second - blocks[i].first;
    EXPECT_LE(len, kChunkListSplitMaxRefs);
    if (i + 1 < blocks.size()) {
      EXPECT_GE(len, kChunkListMinRefs);
    }
    next = blocks[i].second;
  }
  EXPECT_EQ(refs.size(), next);
  EXPECT_GT(blocks.size(), 20000 / 200);  // about 64 + 16 refs per block
}

TEST(ChunkListTest, OneChangedChunkChangesOneBlockAndInsertionsResynchronise) {
  auto refs = Refs(20000, 2);
  auto before = BlockIds(refs);
  auto changed = refs;
  changed[10000].id = Sha256(AsBytes("new page"));
  auto after = BlockIds(changed);
  size_t fresh = 0;
  for (const auto& id : after) fresh += before.count(id) ? 0 : 1;
  EXPECT_LE(fresh, 2u);
  auto grown = refs;
  auto extra = Refs(300, 3);
  grown.insert(grown.begin() + 5000, extra.begin(), extra.end());
  fresh = 0;
  for (const auto& id : BlockIds(grown)) fresh += before.count(id) ? 0 : 1;
  size_t holding_inserted = 0;
  for (auto [b, e] : SplitChunkList(grown)) holding_inserted += (b < 5300 && e > 5000) ? 1 : 0;
  EXPECT_LE(fresh, holding_inserted + 2) << "only the blocks around the insertion are new";
}

TEST(ChunkListTest, RoundTripGoldenAndHostileInput) {
  auto refs = Refs(20, 4);
  Bytes enc = EncodeChunkList(refs.data(), refs.size());
  ExpectMatchesGolden("chunk_list_v1.bin", enc);
  std::vector<ChunkRef> out;
  ASSERT_TRUE(DecodeChunkList(enc, &out).ok());
  EXPECT_EQ(refs, out);
  for (size_t len = 0; len < enc.size(); len++) {
    std::vector<ChunkRef> o;
    EXPECT_TRUE(DecodeChunkList(ByteView(enc).first(len), &o).IsCorruption()) << len;
  }
  Bytes more = enc;
  more.push_back(1);
  EXPECT_TRUE(DecodeChunkList(more, &out).IsCorruption());
}

std::vector<ChunkListLeaf> Leaves(size_t n, int salt) {
  std::vector<ChunkListLeaf> v;
  for (size_t i = 0; i < n; i++)
    v.push_back({Sha256(AsBytes("leaf " + std::to_string(salt) + ":" + std::to_string(i))),
                 static_cast<uint32_t>(1 + i % kChunkListMaxRefs)});
  return v;
}

TEST(ChunkListIndexTest, RoundTripGoldenAndHostileInput) {
  auto leaves = Leaves(20, 5);
  leaves[3].refs = kChunkListMaxRefs;  // the largest count, two varint bytes
  Bytes enc = EncodeChunkListIndex(leaves.data(), leaves.size());
  ExpectMatchesGolden("chunk_list_index_v1.bin", enc);
  std::vector<ChunkListLeaf> out;
  ASSERT_TRUE(DecodeChunkListIndex(enc, &out).ok());
  EXPECT_EQ(leaves, out);
  for (size_t len = 0; len < enc.size(); len++) {
    std::vector<ChunkListLeaf> o;
    EXPECT_TRUE(DecodeChunkListIndex(ByteView(enc).first(len), &o).IsCorruption()) << len;
  }
  Bytes more = enc;
  more.push_back(1);
  EXPECT_TRUE(DecodeChunkListIndex(more, &out).IsCorruption());
  // A block of refs is not an index block, nor the other way round.
  auto refs = Refs(3, 6);
  EXPECT_TRUE(DecodeChunkListIndex(EncodeChunkList(refs.data(), refs.size()), &out).IsCorruption());
  std::vector<ChunkRef> r;
  EXPECT_TRUE(DecodeChunkList(enc, &r).IsCorruption());
}

TEST(ChunkListIndexTest, CountsOutsideTheFormatLimitsAreRefused) {
  std::vector<ChunkListLeaf> out;
  auto one = Leaves(1, 7);
  for (uint32_t bad : {0u, static_cast<uint32_t>(kChunkListMaxRefs + 1)}) {
    one[0].refs = bad;
    EXPECT_TRUE(DecodeChunkListIndex(EncodeChunkListIndex(one.data(), 1), &out).IsCorruption()) << bad;
  }
  EXPECT_TRUE(DecodeChunkListIndex(EncodeChunkListIndex(nullptr, 0), &out).IsCorruption()) << "no leaves";
  auto many = Leaves(kChunkListIndexMaxLeaves + 1, 8);
  EXPECT_TRUE(DecodeChunkListIndex(EncodeChunkListIndex(many.data(), many.size()), &out).IsCorruption());
  many.pop_back();
  out.clear();
  EXPECT_TRUE(DecodeChunkListIndex(EncodeChunkListIndex(many.data(), many.size()), &out).ok());
  EXPECT_EQ(kChunkListIndexMaxLeaves, out.size());
}

TEST(ChunkListIndexTest, CutsKeepIndexBlocksWithinBoundsAndNeverOnTheFirstLeaf) {
  auto leaves = Leaves(200000, 9);
  size_t len = 0, blocks = 0;
  for (size_t i = 0; i < leaves.size(); i++) {
    len++;
    if (len == 1) {
      EXPECT_FALSE(ChunkListIndexCutAfter(leaves[i].id, 1));
    }
    if (ChunkListIndexCutAfter(leaves[i].id, len)) {
      EXPECT_GE(len, kChunkListIndexMinLeaves);
      EXPECT_LE(len, kChunkListIndexSplitMaxLeaves);
      blocks++;
      len = 0;
    }
  }
  // About 128 leaves per index block (2 + a geometric 1/128, capped at 512).
  EXPECT_GT(blocks, 200000u / 200);
  EXPECT_LT(blocks, 200000u / 90);
}

}  // namespace
}  // namespace qm
