// ChunkPipeline: parallel hashing and storing that still hands refs on in
// the order the chunks were read, while they are read, within its memory
// budget, and never loses a store or sink error.
#include "store/ops/chunk_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <thread>

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
  // Starts a batch whose sink appends to refs_, checking the slots come in order.
  void Collect(ChunkPipeline* pipeline) {
    refs_.clear();
    pipeline->Start([this](size_t slot, const ChunkRef& ref) {
      EXPECT_EQ(refs_.size(), slot) << "refs come in submission order";
      refs_.push_back(ref);
      return Status::OK();
    });
  }
  TempDir dir_;
  std::string root_;
  std::vector<ChunkRef> refs_;
};

TEST_F(ChunkPipelineTest, RefsComeBackInSubmissionOrderAndEveryChunkIsStored) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  std::vector<std::string> chunks;
  for (int i = 0; i < 300; i++) chunks.push_back(RandomBytes(1000 + 37 * i, i));
  // A budget of a few chunks forces Submit to wait for the workers.
  ChunkPipeline pipeline(repo->get(), 4, 8192);
  Collect(&pipeline);
  for (size_t i = 0; i < chunks.size(); i++) {
    EXPECT_EQ(i, pipeline.Submit(AsBytes(chunks[i])));
  }
  EXPECT_GT(refs_.size(), 0u) << "refs are handed on while chunks are still submitted";
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(chunks.size(), refs_.size());
  ASSERT_TRUE((*repo)->Flush().ok());  // seal the open pack so its blobs can be read
  for (size_t i = 0; i < chunks.size(); i++) {
    EXPECT_EQ(Sha256(AsBytes(chunks[i])), refs_[i].id) << i;
    EXPECT_EQ(chunks[i].size(), refs_[i].raw_len) << i;
    Bytes back;
    ASSERT_TRUE((*repo)->LoadBlob(refs_[i].id, &back).ok()) << i;
    EXPECT_EQ(chunks[i], std::string(back.begin(), back.end())) << i;
  }
  EXPECT_EQ(300u, pipeline.chunks_new());
}

// Batches reuse the buffers of finished ones: over many batches, with chunks
// of every size (some larger than a batch, whose buffers are not kept),
// every chunk is stored as submitted and its ref keeps its place.
TEST_F(ChunkPipelineTest, ReusedBatchBuffersNeverMixChunks) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  std::vector<std::string> chunks;
  for (int i = 0; i < 400; i++) {
    const size_t n = i % 50 == 7 ? 700 * 1024 : i % 13 == 0 ? 64 * 1024 : 4096;
    chunks.push_back(RandomBytes(n, 5000 + i));
  }
  ChunkPipeline pipeline(repo->get(), 2, 1u << 20);
  for (int round = 0; round < 2; round++) {  // the second batch starts from the first's spare buffers
    Collect(&pipeline);
    for (size_t i = 0; i < chunks.size(); i++) {
      if (round == 1 && i % 3 == 0) continue;
      pipeline.Submit(AsBytes(chunks[i]));
    }
    ASSERT_TRUE(pipeline.Finish().ok());
    ASSERT_TRUE((*repo)->Flush().ok());
    size_t k = 0;
    for (size_t i = 0; i < chunks.size(); i++) {
      if (round == 1 && i % 3 == 0) continue;
      ASSERT_LT(k, refs_.size());
      EXPECT_EQ(Sha256(AsBytes(chunks[i])), refs_[k].id) << round << " " << i;
      Bytes back;
      ASSERT_TRUE((*repo)->LoadBlob(refs_[k].id, &back).ok()) << i;
      EXPECT_TRUE(std::string(back.begin(), back.end()) == chunks[i]) << round << " " << i;
      k++;
    }
    EXPECT_EQ(k, refs_.size());
  }
  EXPECT_EQ(400u, pipeline.chunks_new());
}

TEST_F(ChunkPipelineTest, KnownRefsKeepTheirPlaceAndDoNotPileUpBehindAnUnstoredChunk) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  ChunkPipeline pipeline(repo->get(), 2);
  Collect(&pipeline);
  const std::string a = RandomBytes(5000, 1);
  const ChunkRef known{Sha256(AsBytes("known")), 7};
  // One chunk to store, then far more known refs than the window holds:
  // Submit must hand them on as it goes (or wait), never hold them all.
  pipeline.Submit(AsBytes(a));
  const size_t n = 3 * ChunkPipeline::kMaxWindow;
  size_t most_held = 0;
  for (size_t i = 0; i < n; i++) {
    pipeline.SubmitKnown(known);
    most_held = std::max(most_held, i + 2 - refs_.size());
  }
  pipeline.Submit(AsBytes(a));
  EXPECT_LE(most_held, ChunkPipeline::kMaxWindow + 1);
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(n + 2, refs_.size());
  EXPECT_EQ(Sha256(AsBytes(a)), refs_.front().id);
  EXPECT_EQ(Sha256(AsBytes(a)), refs_.back().id);
  for (size_t i = 1; i <= n; i++) ASSERT_EQ(known, refs_[i]) << i;
  EXPECT_EQ(1u, pipeline.chunks_new());
}

// Holds every pack file's creation until released: no chunk can be stored,
// so whatever the pipeline admits meanwhile is its budget at work.
class HoldPacksEnv : public EnvWrapper {
 public:
  HoldPacksEnv(Env* target, std::shared_future<void> release) : EnvWrapper(target), release_(std::move(release)) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, uint32_t mode) override {
    if (path.find("/tmp/pack-") != std::string::npos) {
      held_++;
      release_.wait();
    }
    return target()->NewWritableFile(path, mode);
  }
  int held() const { return held_.load(); }

 private:
  std::shared_future<void> release_;
  std::atomic<int> held_{0};
};

// Pages stored in one task share a zstd frame only within one run of
// Repository::kSharedFrameSpan places of the list (places 0 to span-1,
// span to 2*span-1, ...: a restore's runs of chunks), counting the known
// refs between them (pages unchanged since the parent): an hourly run's
// pages far apart in the file get separate frames, and so do two pages
// close together on either side of a run's end.
TEST_F(ChunkPipelineTest, NewPagesShareFramesOnlyWithinOneRunOfTheList) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  std::vector<std::string> pages;
  for (int i = 0; i < 7; i++) pages.push_back(std::string(4096, static_cast<char>('a' + i)));
  const ChunkRef known{Sha256(AsBytes("stored by the parent")), 4096};
  ChunkPipeline pipeline(repo->get(), 1);  // one task: the pages are one SaveBlobs call
  Collect(&pipeline);
  auto skip = [&](size_t n) {
    for (size_t k = 0; k < n; k++) pipeline.SubmitKnown(known);
  };
  const size_t span = Repository::kSharedFrameSpan;
  // places: p0 0, p1 1, p2 span-1 | p3 span+200 | p4 2*span+10 | p5 3*span+5, p6 3*span+6
  // (p3 and p4, and p4 and p5, are fewer than span places apart)
  pipeline.Submit(AsBytes(pages[0]));
  pipeline.Submit(AsBytes(pages[1]));
  skip(span - 3);
  pipeline.Submit(AsBytes(pages[2]));
  skip(200);
  pipeline.Submit(AsBytes(pages[3]));
  skip(span - 191);
  pipeline.Submit(AsBytes(pages[4]));
  skip(span - 6);
  pipeline.Submit(AsBytes(pages[5]));
  pipeline.Submit(AsBytes(pages[6]));
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(3 * span + 7, refs_.size());
  ASSERT_TRUE((*repo)->Flush().ok());
  std::map<uint64_t, std::vector<Hash256>> frames;  // by frame offset
  auto packs = (*repo)->ListPacksOnDisk();
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(1u, packs->size());
  auto reader = (*repo)->OpenPack(packs->front());
  ASSERT_TRUE(reader.ok());
  auto toc = (*reader)->ReadToc();
  ASSERT_TRUE(toc.ok());
  for (const PackEntry& e : *toc) frames[e.offset].push_back(e.id);
  auto id = [&](int i) { return Sha256(AsBytes(pages[i])); };
  std::vector<std::vector<Hash256>> want = {{id(0), id(1), id(2)}, {id(3)}, {id(4)}, {id(5), id(6)}};
  std::vector<std::vector<Hash256>> got;
  for (auto& [offset, ids] : frames) got.push_back(ids);
  EXPECT_EQ(want, got);
}

TEST_F(ChunkPipelineTest, TheBudgetForLargeChunksAdmitsFourWhileTheStoreIsStalled) {
  const size_t max_chunk = 4u << 20;  // a repository initialised with chunker_max = 4 MiB
  EXPECT_EQ(ChunkPipeline::kDefaultInflightBytes, ChunkPipeline::InflightBudgetFor(256 * 1024));
  const size_t budget = ChunkPipeline::InflightBudgetFor(max_chunk);
  ASSERT_GE(budget, 4 * max_chunk);

  std::promise<void> release;
  HoldPacksEnv env(Env::Default(), release.get_future().share());
  auto repo = Repository::Open(&env, root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  ChunkPipeline pipeline(repo->get(), 2, budget);
  Collect(&pipeline);
  std::vector<std::string> chunks;
  for (uint64_t i = 0; i < 4; i++) chunks.push_back(RandomBytes(max_chunk, i + 1));
  // Both workers end up inside a pack's creation; the reader goes on. With
  // the 8 MiB default the third Submit would wait for a store that cannot
  // happen until the release below.
  std::atomic<int> submitted{0};
  std::thread reader([&] {
    for (const std::string& c : chunks) {
      pipeline.Submit(AsBytes(c));
      submitted++;
    }
  });
  for (int i = 0; i < 3000 && (submitted.load() < 4 || env.held() < 2); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(4, submitted.load()) << "the reader waited with nothing stored";
  EXPECT_EQ(2, env.held()) << "both workers reached the store";
  release.set_value();
  reader.join();
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(4u, refs_.size());
  for (size_t i = 0; i < 4; i++) EXPECT_EQ(Sha256(AsBytes(chunks[i])), refs_[i].id) << i;
}

TEST_F(ChunkPipelineTest, DuplicatesAreStoredOnceAndBatchesAreIndependent) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  ChunkPipeline pipeline(repo->get(), 2);
  const std::string a = RandomBytes(5000, 1), b = RandomBytes(6000, 2);
  Collect(&pipeline);
  for (int i = 0; i < 50; i++) pipeline.Submit(AsBytes(i % 2 ? a : b));
  ASSERT_TRUE(pipeline.Finish().ok());
  EXPECT_EQ(50u, refs_.size());
  EXPECT_EQ(2u, pipeline.chunks_new());
  Collect(&pipeline);
  EXPECT_EQ(0u, pipeline.Submit(AsBytes(a))) << "a new batch starts at slot 0";
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(1u, refs_.size());
  EXPECT_EQ(Sha256(AsBytes(a)), refs_[0].id);
  EXPECT_EQ(2u, pipeline.chunks_new());
}

TEST_F(ChunkPipelineTest, AStoreErrorIsReturnedByFinish) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kReadOnly);  // SaveBlob refuses
  ASSERT_TRUE(repo.ok());
  ChunkPipeline pipeline(repo->get(), 2);
  Collect(&pipeline);
  for (int i = 0; i < 20; i++) pipeline.Submit(AsBytes(RandomBytes(3000, i)));
  EXPECT_FALSE(pipeline.Finish().ok());
  EXPECT_EQ(0u, pipeline.chunks_new());
  EXPECT_TRUE(refs_.empty()) << "no ref of a failed batch goes on";
}

TEST_F(ChunkPipelineTest, ASinkErrorEndsTheBatchAndIsReturnedByFinish) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  ChunkPipeline pipeline(repo->get(), 2);
  size_t calls = 0;
  pipeline.Start([&](size_t, const ChunkRef&) {
    calls++;
    return calls == 3 ? Status::IOError("list block", "disk full") : Status::OK();
  });
  for (int i = 0; i < 40; i++) pipeline.SubmitKnown(ChunkRef{Sha256(AsBytes(std::to_string(i))), 1});
  Status st = pipeline.Finish();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string::npos, st.ToString().find("disk full")) << st.ToString();
  EXPECT_EQ(3u, calls) << "the sink is not called after its error";
}

}  // namespace
}  // namespace qm
