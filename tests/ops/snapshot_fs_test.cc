// SnapshotFs, the tree `mount` serves: the synthetic top level, lookups
// inside snapshots, and reads at any offset and length across chunk
// boundaries returning exactly the file's bytes.
#include "store/ops/snapshot_fs.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "store/ops/archiver.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

TEST(SnapshotFsTest, ReadsAtAnyOffsetEqualTheFileAndTheTopLevelIsSnapshotsLatestByTag) {
  TempDir dir;
  const std::string src = dir.path() + "/src", root = dir.path() + "/repo";
  fs::create_directories(src + "/data");
  const std::string big = RandomBytes(6u << 20, 9);
  WriteStringToFile(src + "/data/big.bin", big);
  WriteStringToFile(src + "/config.yaml", "k: v\n");
  ASSERT_TRUE(Repository::Init(Env::Default(), root, RepoConfig{}).ok());
  {
    auto repo = Repository::Open(Env::Default(), root, OpenMode::kWrite);
    ASSERT_TRUE(repo.ok());
    BackupOptions opt;
    opt.source = src;
    opt.extra_paths = {"data"};
    opt.tags = {"weekly"};
    ASSERT_TRUE(Backup(repo->get(), opt, nullptr).ok());
  }
  auto repo = Repository::Open(Env::Default(), root, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  auto sfs = SnapshotFs::Create(repo->get());
  ASSERT_TRUE(sfs.ok());
  SnapshotFs& f = **sfs;

  auto top = f.List("/");
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 3u);
  EXPECT_EQ((*top)[0].name, "snapshots");
  EXPECT_EQ((*top)[1].name, "latest");
  EXPECT_EQ((*top)[1].type, FsEntry::Type::kSymlink);
  const std::string name = f.SnapshotNames().at(0);
  EXPECT_EQ((*top)[1].link_target, "snapshots/" + name);
  auto tagged = f.Stat("/by-tag/weekly/" + name);
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->link_target, "../../snapshots/" + name);
  EXPECT_EQ(f.Stat("/snapshots/" + name + "/nope").status().code(), Code::kNotFound);
  EXPECT_EQ(f.Stat("/elsewhere").status().code(), Code::kNotFound);
  auto entry = f.Stat("/snapshots/" + name + "/data/big.bin");
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->size, big.size());
  EXPECT_EQ(entry->mode & 0222, 0u) << "the view is read-only";
  EXPECT_EQ(f.Open("/snapshots/" + name + "/data").status().code(), Code::kInvalidArgument);

  auto h = f.Open("/snapshots/" + name + "/data/big.bin");
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(3);
  std::vector<uint8_t> buf(1 << 20);
  for (int i = 0; i < 200; i++) {
    const uint64_t off = rng() % (big.size() + 100);
    const size_t len = static_cast<size_t>(rng() % buf.size());
    auto n = f.Read(*h, off, len, buf.data());
    ASSERT_TRUE(n.ok());
    const size_t want = off >= big.size() ? 0 : std::min<uint64_t>(len, big.size() - off);
    ASSERT_EQ(*n, want) << off << "+" << len;
    ASSERT_EQ(0, std::memcmp(buf.data(), big.data() + std::min<uint64_t>(off, big.size()), want)) << off;
  }
  f.Release(*h);
  EXPECT_FALSE(f.Read(*h, 0, 10, buf.data()).ok()) << "a released handle reads nothing";
}

}  // namespace
}  // namespace qm
