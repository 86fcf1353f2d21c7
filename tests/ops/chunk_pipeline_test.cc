// ChunkPipeline: parallel hashing and storing that still gives results in
// the order the chunks were read, within its memory budget, and never loses
// a store error.
#include "store/ops/chunk_pipeline.h"

#include <gtest/gtest.h>

#include "core/hash.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

class ChunkPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/repo";
    ASSERT_TRUE(Repository::Init(Env::Default(), root_, RepoConfig{}).ok());
  }
  TempDir dir_;
  std::string root_;
};

TEST_F(ChunkPipelineTest, RefsComeBackInSubmissionOrderAndEveryChunkIsStored) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  std::vector<std::string> chunks;
  for (int i = 0; i < 300; i++) chunks.push_back(RandomBytes(1000 + 37 * i, i));
  // A budget of a few chunks forces Submit to wait for the workers.
  ChunkPipeline pipeline(repo->get(), 4, 8192);
  for (const std::string& c : chunks) pipeline.Submit(AsBytes(c));
  auto refs = pipeline.Finish();
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  ASSERT_EQ(chunks.size(), refs->size());
  ASSERT_TRUE((*repo)->Flush().ok());  // seal the open pack so its blobs can be read
  for (size_t i = 0; i < chunks.size(); i++) {
    EXPECT_EQ(Sha256(AsBytes(chunks[i])), (*refs)[i].id) << i;
    EXPECT_EQ(chunks[i].size(), (*refs)[i].raw_len) << i;
    Bytes back;
    ASSERT_TRUE((*repo)->LoadBlob((*refs)[i].id, &back).ok()) << i;
    EXPECT_EQ(chunks[i], std::string(back.begin(), back.end())) << i;
  }
  EXPECT_EQ(300u, pipeline.chunks_new());
}

TEST_F(ChunkPipelineTest, DuplicatesAreStoredOnceAndBatchesAreIndependent) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  ChunkPipeline pipeline(repo->get(), 2);
  const std::string a = RandomBytes(5000, 1), b = RandomBytes(6000, 2);
  for (int i = 0; i < 50; i++) pipeline.Submit(AsBytes(i % 2 ? a : b));
  auto first = pipeline.Finish();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(50u, first->size());
  EXPECT_EQ(2u, pipeline.chunks_new());
  pipeline.Submit(AsBytes(a));
  auto second = pipeline.Finish();
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(1u, second->size()) << "a new batch starts empty";
  EXPECT_EQ(Sha256(AsBytes(a)), (*second)[0].id);
  EXPECT_EQ(2u, pipeline.chunks_new());
}

TEST_F(ChunkPipelineTest, AStoreErrorIsReturnedByFinish) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kReadOnly);  // SaveBlob refuses
  ASSERT_TRUE(repo.ok());
  ChunkPipeline pipeline(repo->get(), 2);
  for (int i = 0; i < 20; i++) pipeline.Submit(AsBytes(RandomBytes(3000, i)));
  auto refs = pipeline.Finish();
  EXPECT_FALSE(refs.ok());
  EXPECT_EQ(0u, pipeline.chunks_new());
}

}  // namespace
}  // namespace qm
