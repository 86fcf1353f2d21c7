// Tree blobs: golden bytes, round trip of every node kind, hostile input.
#include "core/tree.h"

#include <gtest/gtest.h>

#include "core/chunk_list.h"
#include "core/coding.h"
#include "tests/support/golden.h"

namespace qm {
namespace {

Tree SampleTree() {
  Node dir;
  dir.name = "data";
  dir.type = NodeType::kDir;
  dir.mode = 0700;
  dir.mtime_ns = 1738130400000000000;
  dir.subtree = Sha256(AsBytes("subtree"));
  Node file;
  file.name = "logs.db";
  file.mode = 0644;
  file.uid = 1000;
  file.gid = 1000;
  file.mtime_ns = 1738130400123456789;
  file.ctime_ns = -5;
  file.inode = 1234567;
  file.dev = 2049;
  file.chunks = {{Sha256(AsBytes("c1")), 65536}, {Sha256(AsBytes("c2")), 100}};
  file.size = 65636;
  file.content_id = ContentIdOf(file.chunks);
  file.extensions = {{1, {1, 2, 3}}, {77, {}}};
  Node link;
  link.name = "current.log";
  link.type = NodeType::kSymlink;
  link.mode = 0777;
  link.link_target = "logs/quantmesh-2025-01-29.log";
  Node empty;
  empty.name = "empty.txt";
  empty.mode = 0600;
  empty.content_id = ContentIdOf({});
  return Tree{{link, dir, empty, file}};
}

TEST(TreeTest, EncodingRoundTripsAndMatchesGolden) {
  Tree t = SampleTree();
  Bytes enc = EncodeTree(t);
  ExpectMatchesGolden("tree_v2.bin", enc);
  auto dec = DecodeTree(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(t, *dec);
  EXPECT_EQ(enc, EncodeTree(*dec)) << "encoding is deterministic";
}

TEST(TreeTest, VersionOneTreesStillDecode) {
  // tests/golden/tree_v1.bin was written by the v1 encoder (no layout byte).
  auto dec = DecodeTree(AsBytes(ReadGolden("tree_v1.bin")));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(SampleTree(), *dec);
}

TEST(TreeTest, AFileWithChunkListBlocksRoundTripsWithoutItsInlineList) {
  Tree t = SampleTree();
  Node& f = t.nodes[3];
  f.list_blocks = {Sha256(AsBytes("block1")), Sha256(AsBytes("block2"))};
  f.list_chunk_count = 2;
  auto dec = DecodeTree(EncodeTree(t));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(f.list_blocks, dec->nodes[3].list_blocks);
  EXPECT_EQ(2u, dec->nodes[3].list_chunk_count);
  f.list_chunk_count = 1;  // fewer chunks than blocks: a lie
  EXPECT_FALSE(DecodeTree(EncodeTree(t)).ok());
  EXPECT_TRUE(dec->nodes[3].chunks.empty()) << "the caller loads the blocks";
  EXPECT_EQ(f.content_id, dec->nodes[3].content_id);
  EXPECT_EQ(f.size, dec->nodes[3].size);
}

TEST(TreeTest, AFileWithChunkListIndexBlocksRoundTripsAndMatchesGolden) {
  Tree t = SampleTree();
  Node& f = t.nodes[3];
  f.list_blocks = {Sha256(AsBytes("index1")), Sha256(AsBytes("index2"))};
  f.list_indexed = true;
  f.list_chunk_count = 2;
  const Bytes enc = EncodeTree(t);
  ExpectMatchesGolden("tree_v2_indexed.bin", enc);
  auto dec = DecodeTree(enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(f.list_blocks, dec->nodes[3].list_blocks);
  EXPECT_TRUE(dec->nodes[3].list_indexed);
  EXPECT_TRUE(dec->nodes[3].chunks.empty()) << "the caller loads the blocks";
  // An index block names at most 1024 blocks of at most 512 refs: a count
  // past that, or below the index block count, is a lie.
  f.size = uint64_t{1} << 40;
  f.list_chunk_count = 2 * kChunkListIndexMaxLeaves * kChunkListMaxRefs;
  EXPECT_TRUE(DecodeTree(EncodeTree(t)).ok());
  f.list_chunk_count++;
  EXPECT_FALSE(DecodeTree(EncodeTree(t)).ok());
  f.list_chunk_count = 1;
  EXPECT_FALSE(DecodeTree(EncodeTree(t)).ok());
  // The same ids in layout 1 allow 512 refs per block only.
  f.list_indexed = false;
  f.list_chunk_count = 2 * kChunkListMaxRefs + 1;
  EXPECT_FALSE(DecodeTree(EncodeTree(t)).ok());
}

TEST(TreeTest, ContentIdDependsOnChunkIdsAndLengths) {
  std::vector<ChunkRef> a = {{Sha256(AsBytes("x")), 5}};
  std::vector<ChunkRef> b = {{Sha256(AsBytes("x")), 6}};
  EXPECT_NE(ContentIdOf(a), ContentIdOf(b));
  EXPECT_EQ(ContentIdOf(a), ContentIdOf(a));
}

// ContentIdOf feeds SHA-256 in large pieces; the id is still SHA-256 of every
// ref's 32-byte id and u32le length in order, across the piece boundaries.
TEST(TreeTest, ContentIdIsTheHashOfAllRefsInOrder) {
  std::vector<ChunkRef> many;
  Bytes all;
  for (uint32_t i = 0; i < 5000; i++) {
    many.push_back(ChunkRef{Sha256(AsBytes(std::to_string(i))), i * 7});
    PutBytes(&all, many.back().id.View());
    PutFixed32(&all, many.back().raw_len);
  }
  EXPECT_EQ(Sha256(all), ContentIdOf(many));
}

TEST(TreeTest, EveryTruncationAndMostFlipsAreRejectedWithoutCrashing) {
  Bytes enc = EncodeTree(SampleTree());
  for (size_t len = 0; len < enc.size(); len++) {
    EXPECT_FALSE(DecodeTree(ByteView(enc).first(len)).ok()) << "truncated to " << len;
  }
  // A flipped byte may still decode (e.g. a changed mtime) but must never
  // crash or read out of bounds; ASan runs catch the latter.
  for (size_t i = 0; i < enc.size(); i++) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      Bytes t = enc;
      t[i] ^= mask;
      auto r = DecodeTree(t);
      if (r.ok()) {
        EXPECT_EQ(t, EncodeTree(*r)) << "what decodes re-encodes to the same bytes";
      }
    }
  }
}

TEST(TreeTest, UnsortedDuplicateAndInvalidNamesAreCorruption) {
  Tree t = SampleTree();
  std::swap(t.nodes[0], t.nodes[1]);
  EXPECT_TRUE(DecodeTree(EncodeTree(t)).status().IsCorruption());
  for (const char* bad : {"", ".", "..", "a/b"}) {
    Tree u;
    Node n;
    n.name = bad;
    n.content_id = ContentIdOf({});
    u.nodes.push_back(n);
    EXPECT_TRUE(DecodeTree(EncodeTree(u)).status().IsCorruption()) << bad;
  }
  Tree d = SampleTree();
  d.nodes[1].name = d.nodes[0].name;
  EXPECT_TRUE(DecodeTree(EncodeTree(d)).status().IsCorruption());
}

TEST(TreeTest, SizeOrContentIdDisagreeingWithChunksIsCorruption) {
  Tree t = SampleTree();
  t.nodes[3].size += 1;
  EXPECT_TRUE(DecodeTree(EncodeTree(t)).status().IsCorruption());
  t = SampleTree();
  t.nodes[3].content_id = Sha256(AsBytes("other"));
  EXPECT_TRUE(DecodeTree(EncodeTree(t)).status().IsCorruption());
}

TEST(TreeTest, AHugeDeclaredNodeCountIsRefusedBeforeAllocating) {
  Bytes enc = {'Q', 'M', 'T', 'R', 2, 0xff, 0xff, 0xff, 0xff, 0x0f};
  EXPECT_TRUE(DecodeTree(enc).status().IsCorruption());
}

}  // namespace
}  // namespace qm
