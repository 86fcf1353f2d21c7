// ChunkListWriter: a list stored ref by ref gives exactly the node that the
// whole-list split gives (inline up to kChunkListInlineMax, else the same
// blocks), also when the first ref comes last, as a database capture's does.
#include "store/repo/chunk_list_writer.h"

#include <gtest/gtest.h>

#include "core/chunk_list.h"
#include "store/repo/known_blocks.h"
#include "store/repo/repository.h"
#include "tests/support/repo_fixture.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

std::vector<ChunkRef> Refs(size_t n, int salt) {
  std::vector<ChunkRef> v;
  for (size_t i = 0; i < n; i++)
    v.push_back({Sha256(AsBytes(std::to_string(salt) + ":" + std::to_string(i))), static_cast<uint32_t>(4096 + i)});
  return v;
}

class ChunkListWriterTest : public WritableRepoTest {
 protected:
  // What the whole-list path gives: the blocks of SplitChunkList.
  static std::vector<Hash256> ExpectedBlocks(const std::vector<ChunkRef>& refs) {
    std::vector<Hash256> ids;
    for (auto [b, e] : SplitChunkList(refs)) ids.push_back(Sha256(EncodeChunkList(refs.data() + b, e - b)));
    return ids;
  }
  // The node's list read back from the store.
  std::vector<ChunkRef> ReadBack(Node n, const std::vector<ChunkRef>& refs) {
    n.type = NodeType::kFile;
    n.size = 0;
    for (const ChunkRef& r : refs) n.size += r.raw_len;
    EXPECT_TRUE(repo_->Flush().ok());
    Status st = repo_->ExpandChunkList(&n);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return n.chunks;
  }
};

TEST_F(ChunkListWriterTest, RefByRefGivesTheWholeListSplitInlineOrInTheSameBlocks) {
  for (size_t n : {size_t{0}, size_t{1}, kChunkListInlineMax, kChunkListInlineMax + 1, size_t{5000}}) {
    SCOPED_TRACE(n);
    const auto refs = Refs(n, static_cast<int>(n));
    uint64_t added = 0;
    ChunkListWriter w(repo_.get(), nullptr, &added);
    for (const ChunkRef& r : refs) ASSERT_TRUE(w.Add(r).ok());
    Node node;
    node.type = NodeType::kFile;
    ASSERT_TRUE(w.Finish(&node).ok());
    EXPECT_EQ(ContentIdOf(refs), node.content_id);
    if (n <= kChunkListInlineMax) {
      EXPECT_TRUE(refs == node.chunks);
      EXPECT_TRUE(node.list_blocks.empty());
      EXPECT_EQ(0u, added);
    } else {
      EXPECT_TRUE(node.chunks.empty());
      EXPECT_EQ(ExpectedBlocks(refs), node.list_blocks);
      EXPECT_EQ(n, node.list_chunk_count);
      EXPECT_GT(added, 0u);
      EXPECT_TRUE(refs == ReadBack(node, refs)) << "the stored blocks hold the list";
    }
  }
}

TEST_F(ChunkListWriterTest, AFirstRefThatComesLastLandsFirstInTheSameBlocks) {
  // The first ref arrives after every other (a database's page 1), after a
  // few, or at once; the list and its blocks are the same as in order.
  for (size_t n : {size_t{1}, size_t{2}, kChunkListInlineMax, kChunkListInlineMax + 1, size_t{3000}}) {
    for (size_t first_after : {size_t{0}, size_t{1}, n - 1}) {
      if (first_after > n - 1) continue;
      SCOPED_TRACE(std::to_string(n) + " refs, first after " + std::to_string(first_after));
      const auto refs = Refs(n, 7);
      ChunkListWriter w(repo_.get(), nullptr, nullptr);
      w.DeferFirst();
      for (size_t i = 1; i < n; i++) {
        if (i - 1 == first_after) {
          ASSERT_TRUE(w.SetFirst(refs[0]).ok());
        }
        ASSERT_TRUE(w.Add(refs[i]).ok());
      }
      if (first_after == n - 1) {
        ASSERT_TRUE(w.SetFirst(refs[0]).ok());
      }
      Node node;
      node.type = NodeType::kFile;
      node.content_id = ContentIdOf(refs);  // the caller's to set when the first is deferred
      ASSERT_TRUE(w.Finish(&node).ok());
      EXPECT_EQ(n, w.count());
      if (n <= kChunkListInlineMax) {
        EXPECT_TRUE(refs == node.chunks);
      } else {
        EXPECT_EQ(ExpectedBlocks(refs), node.list_blocks);
        EXPECT_TRUE(refs == ReadBack(node, refs)) << "the stored blocks hold the list";
      }
    }
  }
}

TEST_F(ChunkListWriterTest, ADeferredFirstThatNeverCameIsAnError) {
  ChunkListWriter w(repo_.get(), nullptr, nullptr);
  w.DeferFirst();
  for (const ChunkRef& r : Refs(100, 3)) ASSERT_TRUE(w.Add(r).ok());
  Node node;
  EXPECT_FALSE(w.Finish(&node).ok());
}

TEST_F(ChunkListWriterTest, BlocksKnownToBeStoredAreNotSavedAgain) {
  const auto refs = Refs(2000, 9);
  const auto ids = ExpectedBlocks(refs);
  KnownBlocks stored;
  stored.Add(ids);
  uint64_t added = 0;
  ChunkListWriter w(repo_.get(), &stored, &added);
  for (const ChunkRef& r : refs) ASSERT_TRUE(w.Add(r).ok());
  Node node;
  ASSERT_TRUE(w.Finish(&node).ok());
  EXPECT_EQ(ids, node.list_blocks);
  EXPECT_EQ(0u, added);
  auto has = repo_->HasBlob(ids[0]);
  ASSERT_TRUE(has.ok());
  EXPECT_FALSE(*has) << "taken as stored: not looked up or written";
}

// Ids from several lists, each viewed and sorted: every one added is known,
// no other is (among them ids that share a first byte with a known one).
TEST(KnownBlocksTest, KnowsExactlyTheIdsOfTheListsAdded) {
  std::vector<Hash256> a, b, other;
  for (int i = 0; i < 500; i++) {
    Hash256 h = Sha256(AsBytes("block " + std::to_string(i)));
    (i % 3 == 0 ? a : i % 3 == 1 ? b : other).push_back(h);
    Hash256 near = h;
    near.bytes[31] ^= 1;
    other.push_back(near);
  }
  KnownBlocks known;
  EXPECT_FALSE(known.Contains(a[0]));
  known.Add(a);
  known.Add(b);
  known.Add(std::span<const Hash256>());
  EXPECT_EQ(a.size() + b.size(), known.size());
  for (const Hash256& h : a) EXPECT_TRUE(known.Contains(h));
  for (const Hash256& h : b) EXPECT_TRUE(known.Contains(h));
  for (const Hash256& h : other) EXPECT_FALSE(known.Contains(h));
}

}  // namespace
}  // namespace qm
