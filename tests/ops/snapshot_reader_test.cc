// Reading a snapshot in place: a lookup and a file's content read only
// the blobs on that path, never the rest of the snapshot; content is
// verified; paths are checked.
#include "store/ops/snapshot_reader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "store/ops/archiver.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

// Counts every byte read through the Env (packs, records, sources).
class CountingEnv : public EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(Env::Default()) {}
  std::atomic<uint64_t> bytes{0};

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    QM_ASSIGN_OR_RETURN(auto f, target()->NewRandomAccessFile(p));
    return std::unique_ptr<RandomAccessFile>(new Counted(std::move(f), &bytes));
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& p) override {
    QM_ASSIGN_OR_RETURN(auto f, target()->NewSequentialFile(p));
    return std::unique_ptr<SequentialFile>(new CountedSeq(std::move(f), &bytes));
  }

 private:
  struct Counted : RandomAccessFile {
    Counted(std::unique_ptr<RandomAccessFile> f, std::atomic<uint64_t>* n) : f(std::move(f)), n(n) {}
    Status ReadAt(uint64_t off, size_t len, uint8_t* out) const override {
      *n += len;
      return f->ReadAt(off, len, out);
    }
    uint64_t Size() const override { return f->Size(); }
    std::unique_ptr<RandomAccessFile> f;
    std::atomic<uint64_t>* n;
  };
  struct CountedSeq : SequentialFile {
    CountedSeq(std::unique_ptr<SequentialFile> f, std::atomic<uint64_t>* n) : f(std::move(f)), n(n) {}
    Result<size_t> Read(size_t len, uint8_t* out) override {
      auto r = f->Read(len, out);
      if (r.ok()) *n += *r;
      return r;
    }
    std::unique_ptr<SequentialFile> f;
    std::atomic<uint64_t>* n;
  };
};

class SnapshotReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/src";
    fs::create_directories(src_ + "/data");
    WriteStringToFile(src_ + "/config.yaml", "exchange:\n  api_key: FAKE\n");
    big_ = RandomBytes(48u << 20, 5);  // incompressible: stored at full size
    WriteStringToFile(src_ + "/data/big.bin", big_);
    root_ = dir_.path() + "/repo";
    ASSERT_TRUE(Repository::Init(Env::Default(), root_, RepoConfig{}).ok());
    auto repo = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
    ASSERT_TRUE(repo.ok());
    BackupOptions opt;
    opt.source = src_;
    opt.extra_paths = {"data"};
    auto b = Backup(repo->get(), opt, nullptr);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
  }
  TempDir dir_;
  std::string src_, root_, big_;
};

TEST_F(SnapshotReaderTest, CatOfASmallFileReadsOnlyItsPathNotTheRestOfTheSnapshot) {
  CountingEnv env;
  auto repo = Repository::Open(&env, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  auto snap = (*repo)->FindSnapshot("latest");
  ASSERT_TRUE(snap.ok());
  const uint64_t before = env.bytes;
  auto node = LookupPath(repo->get(), *snap, "/config.yaml");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  std::string got;
  ASSERT_TRUE(ReadFileContent(repo->get(), *node, [&](ByteView b) {
                got.append(reinterpret_cast<const char*>(b.data()), b.size());
                return Status::OK();
              }).ok());
  EXPECT_EQ(got, "exchange:\n  api_key: FAKE\n");
  EXPECT_LT(env.bytes - before, 256u << 10) << "reading config.yaml touched the 48 MiB file's data";

  // And the big file reads back whole, verified.
  auto big = LookupPath(repo->get(), *snap, "data/big.bin");
  ASSERT_TRUE(big.ok());
  std::string all;
  ASSERT_TRUE(ReadFileContent(repo->get(), *big, [&](ByteView b) {
                all.append(reinterpret_cast<const char*>(b.data()), b.size());
                return Status::OK();
              }).ok());
  EXPECT_TRUE(all == big_);
}

TEST_F(SnapshotReaderTest, MissingPathsAndDotDotAreClearErrors) {
  auto repo = Repository::Open(Env::Default(), root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  auto snap = (*repo)->FindSnapshot("latest");
  ASSERT_TRUE(snap.ok());
  auto missing = LookupPath(repo->get(), *snap, "data/nope.db");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("no \"data/nope.db\" in snapshot"), std::string::npos);
  auto under_file = LookupPath(repo->get(), *snap, "config.yaml/x");
  EXPECT_EQ(under_file.status().code(), Code::kNotFound);
  EXPECT_NE(under_file.status().message().find("is not a directory"), std::string::npos);
  auto dotdot = LookupPath(repo->get(), *snap, "data/../config.yaml");
  EXPECT_EQ(dotdot.status().code(), Code::kInvalidArgument);
  auto root = LookupPath(repo->get(), *snap, "/");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->type, NodeType::kDir);
}

}  // namespace
}  // namespace qm
