// ChunkLoader: a file's chunks come out in order with their refs, whether
// its list is inline or in chunk-list blocks read piece by piece; a lost
// block is an error, not a hang; and a restore refuses a list that is not
// the file's (count or content id), which only the whole list can show.
#include "store/ops/chunk_loader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/chunk_list.h"
#include "store/ops/restorer.h"
#include "store/ops/snapshot_reader.h"
#include "store/repo/chunk_list_writer.h"
#include "tests/support/repo_fixture.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

class ChunkLoaderTest : public WritableRepoTest {
 protected:
  // Stores `n` chunks of varying sizes and returns the file's node (its
  // list in blocks beyond kChunkListInlineMax) and, in *content, its bytes.
  Node StoreFile(size_t n, std::string* content) {
    Node node;
    node.name = "f";
    node.type = NodeType::kFile;
    ChunkListWriter list(repo_.get(), nullptr, nullptr);
    for (size_t i = 0; i < n; i++) {
      const std::string c = RandomBytes(100 + (i * 37) % 3000, i);
      const Hash256 id = Sha256(AsBytes(c));
      EXPECT_TRUE(repo_->SaveBlob(BlobType::kData, id, AsBytes(c)).ok());
      EXPECT_TRUE(list.Add({id, static_cast<uint32_t>(c.size())}).ok());
      *content += c;
    }
    EXPECT_TRUE(list.Finish(&node).ok());
    node.size = content->size();
    EXPECT_TRUE(repo_->Flush().ok());
    return node;
  }
  // Everything the loader hands out, checking the refs as a restore does.
  Result<std::string> ReadAll(const Node& node, unsigned threads, size_t* count) {
    ChunkLoader loader(repo_.get(), node, threads);
    std::string out;
    Bytes data;
    std::vector<uint32_t> sizes;
    std::vector<ChunkRef> refs;
    *count = 0;
    ContentIdHasher content;
    while (true) {
      QM_ASSIGN_OR_RETURN(bool more, loader.Next(&data, &sizes, &refs));
      if (!more) break;
      EXPECT_EQ(sizes.size(), refs.size());
      for (size_t k = 0; k < sizes.size() && k < refs.size(); k++) {
        EXPECT_EQ(refs[k].raw_len, sizes[k]);
        content.Add(refs[k]);
      }
      *count += refs.size();
      out.append(data.begin(), data.end());
    }
    EXPECT_EQ(node.content_id, content.Finish());
    return out;
  }
};

TEST_F(ChunkLoaderTest, ChunksComeOutInOrderWithTheirRefsInlineOrFromBlocks) {
  for (size_t n : {size_t{0}, size_t{10}, size_t{6000}}) {
    SCOPED_TRACE(n);
    std::string content;
    const Node node = StoreFile(n, &content);
    EXPECT_EQ(n > kChunkListInlineMax, !node.list_blocks.empty());
    for (unsigned threads : {1u, 3u}) {
      size_t count = 0;
      auto got = ReadAll(node, threads, &count);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(n, count);
      EXPECT_TRUE(content == *got) << "the file's bytes, in order";
    }
  }
}

TEST_F(ChunkLoaderTest, AListInOneLevelOfBlocksStillReads) {
  // Layout 1, written before index blocks: the node names the blocks of
  // refs themselves.
  std::string content;
  const Node indexed = StoreFile(6000, &content);
  ASSERT_TRUE(indexed.list_indexed);
  std::vector<ChunkListLeaf> leaves;
  ASSERT_TRUE(repo_->LoadChunkListLeaves(indexed, 0, indexed.list_blocks.size(), &leaves).ok());
  Node flat = indexed;
  flat.list_indexed = false;
  flat.list_blocks.clear();
  for (const ChunkListLeaf& l : leaves) flat.list_blocks.push_back(l.id);
  ASSERT_GT(flat.list_blocks.size(), ChunkLoader::kBlocksPerPlan);
  size_t count = 0;
  auto got = ReadAll(flat, 2, &count);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(6000u, count);
  EXPECT_TRUE(content == *got);
  Node expanded = flat;
  ASSERT_TRUE(repo_->ExpandChunkList(&expanded).ok());
  EXPECT_EQ(6000u, expanded.chunks.size());
}

TEST_F(ChunkLoaderTest, AnIndexBlockThatMiscountsOrNamesALostBlockIsRefused) {
  std::string content;
  const Node good = StoreFile(3000, &content);
  for (int damage = 0; damage < 2; damage++) {
    SCOPED_TRACE(damage == 0 ? "miscounted" : "lost block");
    std::vector<ChunkListLeaf> leaves;
    ASSERT_TRUE(repo_->LoadChunkListLeaves(good, 0, 1, &leaves).ok());
    if (damage == 0) leaves[0].refs += 1;  // the block holds one ref less than this says
    if (damage == 1) leaves.back().id = Sha256(AsBytes("no such block"));
    const Bytes enc = EncodeChunkListIndex(leaves.data(), leaves.size());
    Node node = good;
    node.list_blocks[0] = Sha256(enc);
    ASSERT_TRUE(repo_->SaveBlob(BlobType::kList, node.list_blocks[0], enc).ok());
    ASSERT_TRUE(repo_->Flush().ok());
    size_t count = 0;
    auto got = ReadAll(node, 2, &count);
    ASSERT_FALSE(got.ok());
    EXPECT_NE(std::string::npos, got.status().ToString().find(damage == 0 ? "different number of refs" : "chunk list"))
        << got.status().ToString();
    EXPECT_FALSE(repo_->ExpandChunkList(&node).ok());
  }
}

TEST_F(ChunkLoaderTest, AListBlockThatCannotBeReadIsAnErrorInItsPlace) {
  std::string content;
  Node node = StoreFile(12000, &content);
  // The last index block: the plans before it hand out chunks first (a
  // plan's index blocks may name too few refs for a task of their own).
  ASSERT_GT(node.list_blocks.size(), 4 * ChunkLoader::kIndexBlocksPerPlan);
  node.list_blocks.back() = Sha256(AsBytes("no such block"));
  size_t count = 0;
  auto got = ReadAll(node, 2, &count);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(std::string::npos, got.status().ToString().find("chunk list")) << got.status().ToString();
  EXPECT_GT(count, 0u) << "what came before the lost block was handed out";
}

TEST_F(ChunkLoaderTest, ARestoreRefusesAListThatIsNotTheFilesAndLeavesNoFile) {
  std::string content;
  const Node good = StoreFile(3000, &content);
  for (int damage = 0; damage < 2; damage++) {
    SCOPED_TRACE(damage == 0 ? "content id" : "chunk count");
    Node node = good;
    if (damage == 0) node.content_id = Sha256(AsBytes("another file"));
    if (damage == 1) node.list_chunk_count++;
    Tree tree;
    tree.nodes.push_back(node);
    const Bytes enc = EncodeTree(tree);
    const Hash256 tid = Sha256(enc);
    ASSERT_TRUE(repo_->SaveBlob(BlobType::kTree, tid, enc).ok());
    SnapshotRecord rec;
    rec.time_unix = 1000 + damage;
    rec.hostname = "h";
    rec.source = "/src";
    rec.root_tree = tid;
    auto id = repo_->CommitSnapshot(rec);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    const std::string target = dir_.path() + "/out" + std::to_string(damage);
    std::filesystem::create_directories(target);
    auto r = Restore(repo_.get(), Snapshot{*id, rec}, RestoreOptions(target), nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(std::string::npos, r.status().ToString().find("does not match its chunks")) << r.status().ToString();
    EXPECT_TRUE(std::filesystem::is_empty(target)) << "no file, not even a temporary";
  }
}

// `cat`, `export` and the database inspector read through ReadFileContent:
// the same streamed list, and a list that is not the file's is refused
// before its last run reaches them.
TEST_F(ChunkLoaderTest, ReadFileContentStreamsTheListAndWithholdsTheLastRunOfAListThatIsNotTheFiles) {
  std::string content;
  const Node good = StoreFile(6000, &content);
  std::string got;
  Status st = ReadFileContent(repo_.get(), good, [&](ByteView b) {
    got.append(b.begin(), b.end());
    return Status::OK();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(content == got);

  Node bad = good;
  bad.content_id = Sha256(AsBytes("another file"));
  got.clear();
  st = ReadFileContent(repo_.get(), bad, [&](ByteView b) {
    got.append(b.begin(), b.end());
    return Status::OK();
  });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string::npos, st.ToString().find("content id")) << st.ToString();
  EXPECT_LT(got.size(), content.size()) << "the last run is withheld";
  EXPECT_TRUE(content.compare(0, got.size(), got) == 0) << "what was handed over is the file's beginning";
}

}  // namespace
}  // namespace qm
