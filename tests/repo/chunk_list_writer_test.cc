// ChunkListWriter: a list stored ref by ref gives exactly the node that the
// whole-list split gives (inline up to kChunkListInlineMax, else the same
// blocks under the same index blocks), also when the first ref comes last,
// as a database capture's does; and ParentList spares the lookups of the
// blocks a parent list holds at the same place, and only those.
#include "store/repo/chunk_list_writer.h"

#include <gtest/gtest.h>

#include "core/chunk_list.h"
#include "store/repo/parent_list.h"
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

// The two levels a list is stored in, computed from the whole list.
struct Levels {
  std::vector<ChunkListLeaf> leaves;  // blocks of refs, in order
  std::vector<Bytes> leaf_bytes;
  std::vector<Bytes> index_bytes;  // index blocks, in order
  std::vector<Hash256> index_ids;  // what the node holds
};

Levels LevelsOf(const std::vector<ChunkRef>& refs) {
  Levels l;
  for (auto [b, e] : SplitChunkList(refs)) {
    l.leaf_bytes.push_back(EncodeChunkList(refs.data() + b, e - b));
    l.leaves.push_back({Sha256(l.leaf_bytes.back()), static_cast<uint32_t>(e - b)});
  }
  size_t start = 0;
  for (size_t i = 0; i < l.leaves.size(); i++) {
    if (ChunkListIndexCutAfter(l.leaves[i].id, i + 1 - start) || i + 1 == l.leaves.size()) {
      l.index_bytes.push_back(EncodeChunkListIndex(l.leaves.data() + start, i + 1 - start));
      l.index_ids.push_back(Sha256(l.index_bytes.back()));
      start = i + 1;
    }
  }
  return l;
}

class ChunkListWriterTest : public WritableRepoTest {
 protected:
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
  bool Has(const Hash256& id) {
    auto has = repo_->HasBlob(id);
    EXPECT_TRUE(has.ok());
    return has.ok() && *has;
  }
  // A parent file node over `refs` whose index blocks are stored and whose
  // blocks of refs are not: a block the writer takes as the parent's is
  // then visibly neither looked up nor written.
  Node ParentWithIndexOnly(const std::vector<ChunkRef>& refs) {
    const Levels l = LevelsOf(refs);
    for (size_t i = 0; i < l.index_ids.size(); i++)
      EXPECT_TRUE(repo_->SaveBlob(BlobType::kList, l.index_ids[i], l.index_bytes[i]).ok());
    EXPECT_TRUE(repo_->Flush().ok());
    Node p;
    p.name = "parent";
    p.type = NodeType::kFile;
    p.list_blocks = l.index_ids;
    p.list_indexed = true;
    p.list_chunk_count = refs.size();
    return p;
  }
};

TEST_F(ChunkListWriterTest, RefByRefGivesTheWholeListSplitInlineOrInTheSameBlocks) {
  // 5000 refs: ~500 blocks under a few index blocks; 150000: over 100.
  for (size_t n : {size_t{0}, size_t{1}, kChunkListInlineMax, kChunkListInlineMax + 1, size_t{5000}, size_t{150000}}) {
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
      EXPECT_TRUE(node.list_indexed);
      EXPECT_EQ(LevelsOf(refs).index_ids, node.list_blocks);
      EXPECT_EQ(n, node.list_chunk_count);
      EXPECT_GT(added, 0u);
      EXPECT_TRUE(refs == ReadBack(node, refs)) << "the stored blocks hold the list";
    }
  }
}

TEST_F(ChunkListWriterTest, AFirstRefThatComesLastLandsFirstInTheSameBlocks) {
  // The first ref arrives after every other (a database's page 1), after a
  // few, or at once; the list and its blocks are the same as in order.
  for (size_t n : {size_t{1}, size_t{2}, kChunkListInlineMax, kChunkListInlineMax + 1, size_t{3000}, size_t{40000}}) {
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
        EXPECT_EQ(LevelsOf(refs).index_ids, node.list_blocks);
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

TEST_F(ChunkListWriterTest, TheParentsBlocksAtTheSamePlaceAreNeitherLookedUpNorWritten) {
  // In order, and with the first ref last as a database capture gives it.
  for (bool deferred : {false, true}) {
    SCOPED_TRACE(deferred ? "first ref last" : "in order");
    const auto refs = Refs(20000, deferred ? 11 : 9);
    const Levels l = LevelsOf(refs);
    ASSERT_GT(l.index_ids.size(), 3u);
    Node parent = ParentWithIndexOnly(refs);
    ParentList known(repo_.get(), &parent);
    uint64_t added = 0;
    ChunkListWriter w(repo_.get(), &known, &added);
    if (deferred) w.DeferFirst();
    for (size_t i = deferred ? 1 : 0; i < refs.size(); i++) ASSERT_TRUE(w.Add(refs[i]).ok());
    if (deferred) {
      ASSERT_TRUE(w.SetFirst(refs[0]).ok());
    }
    Node node;
    ASSERT_TRUE(w.Finish(&node).ok());
    EXPECT_EQ(l.index_ids, node.list_blocks);
    EXPECT_EQ(0u, added) << "nothing written: the index blocks were stored, the blocks taken as known";
    EXPECT_FALSE(Has(l.leaves.front().id)) << "the first block too";
    EXPECT_FALSE(Has(l.leaves[l.leaves.size() / 2].id));
    EXPECT_FALSE(Has(l.leaves.back().id));
  }
}

TEST_F(ChunkListWriterTest, ABlockIsKnownOnlyWhereTheParentHasIt) {
  const auto refs = Refs(20000, 12);
  const Node parent = ParentWithIndexOnly(refs);
  auto write = [&](const std::vector<ChunkRef>& list) {
    ParentList known(repo_.get(), &parent);
    ChunkListWriter w(repo_.get(), &known, nullptr);
    for (const ChunkRef& r : list) EXPECT_TRUE(w.Add(r).ok());
    Node node;
    EXPECT_TRUE(w.Finish(&node).ok());
    EXPECT_TRUE(repo_->Flush().ok());
    size_t written = 0;
    for (const ChunkListLeaf& leaf : LevelsOf(list).leaves) written += Has(leaf.id);
    return std::make_pair(node, written);
  };
  // One ref changed: its block is new and written, the rest are known.
  auto changed = refs;
  changed[10000].id = Sha256(AsBytes("changed page"));
  const size_t written = write(changed).second;
  EXPECT_GE(written, 1u);
  EXPECT_LE(written, 2u) << "only the block holding the changed ref (and the next, if a cut moved)";
  // The same refs one chunk later: no block starts where the parent's did,
  // so none is taken as known and every one is written.
  auto shifted = refs;
  shifted.insert(shifted.begin(), ChunkRef{Sha256(AsBytes("inserted")), 4096});
  const auto [node, all] = write(shifted);
  EXPECT_EQ(LevelsOf(shifted).leaves.size(), all);
  EXPECT_TRUE(shifted == ReadBack(node, shifted));
}

TEST_F(ChunkListWriterTest, AParentWithoutIndexBlocksKnowsNothing) {
  // A layout-1 parent (blocks without counts) or one whose index cannot be
  // read: every block is looked up and written like any blob.
  const auto refs = Refs(3000, 13);
  const Levels l = LevelsOf(refs);
  Node flat;
  flat.type = NodeType::kFile;
  for (const ChunkListLeaf& leaf : l.leaves) flat.list_blocks.push_back(leaf.id);
  flat.list_chunk_count = refs.size();
  Node lost = ParentWithIndexOnly(refs);
  lost.list_blocks[0] = Sha256(AsBytes("no such index block"));
  for (const Node* parent : {&flat, &lost}) {
    ParentList known(repo_.get(), parent);
    for (size_t i = 0; i < l.leaves.size(); i++) {
      uint64_t start = 0;
      for (size_t k = 0; k < i; k++) start += l.leaves[k].refs;
      EXPECT_FALSE(known.Has(l.leaves[i].id, start));
    }
  }
}

}  // namespace
}  // namespace qm
