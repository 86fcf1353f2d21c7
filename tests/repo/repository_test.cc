// Repository: init, locking, dedup, the commit protocol's visible effects,
// and the chunk index as a rebuildable cache.
#include "store/repo/repository.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "store/repo/pack_reader.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RestrictFileCreationMask();  // as the CLI does, so RocksDB's files are private too
    root_ = dir_.path() + "/repo";
    ASSERT_TRUE(Repository::Init(env_, root_, RepoConfig{}).ok());
  }
  std::unique_ptr<Repository> OpenWrite(std::vector<std::string>* warnings = nullptr) {
    auto r = Repository::Open(env_, root_, OpenMode::kWrite, [warnings](const std::string& w) {
      if (warnings) warnings->push_back(w);
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  Hash256 Save(Repository* repo, const std::string& data, bool expect_new = true) {
    Hash256 id = Sha256(AsBytes(data));
    auto r = repo->SaveBlob(BlobType::kData, id, AsBytes(data));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      EXPECT_EQ(r->added, expect_new);
    }
    return id;
  }
  Hash256 CommitEmpty(Repository* repo, int64_t time) {
    Tree empty;
    Bytes enc = EncodeTree(empty);
    Hash256 tid = Sha256(enc);
    EXPECT_TRUE(repo->SaveBlob(BlobType::kTree, tid, enc).ok());
    SnapshotRecord rec;
    rec.time_unix = time;
    rec.hostname = "h";
    rec.source = "/src";
    rec.root_tree = tid;
    auto id = repo->CommitSnapshot(rec);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : Hash256{};
  }

  // Flips one bit in the middle of blob `id` where its pack stores it.
  // Flips a byte in the middle of the blob's stored frame, or its first
  // byte (for zstd: the frame's magic number).
  void FlipAByteOf(const Hash256& id, bool first = false) {
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok());
    auto loc = (*repo)->index().value()->Lookup(id);
    ASSERT_TRUE(loc.ok() && loc->has_value());
    const std::string path = (*repo)->layout().PackFile((*loc)->pack);
    std::string bytes = ReadFileToString(path);
    bytes[(*loc)->offset + (first ? 0 : (*loc)->stored_len / 2)] ^= 0x01;
    WriteStringToFile(path, bytes);
  }

  TempDir dir_;
  Env* env_ = Env::Default();
  std::string root_;
};

TEST_F(RepositoryTest, InitCreatesPrivateFilesAndDirectories) {
  auto repo = OpenWrite();
  CommitEmpty(repo.get(), 1000);
  repo.reset();
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    struct stat st;
    ASSERT_EQ(0, lstat(e.path().c_str(), &st));
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(0700u, st.st_mode & 0777) << e.path();
    } else {
      EXPECT_EQ(0u, st.st_mode & 0077) << e.path() << " is readable by others";
    }
  }
  struct stat st;
  ASSERT_EQ(0, stat(root_.c_str(), &st));
  EXPECT_EQ(0700u, st.st_mode & 0777);
}

TEST_F(RepositoryTest, InitRefusesAnExistingRepository) {
  Status s = Repository::Init(env_, root_, RepoConfig{});
  EXPECT_EQ(Code::kAlreadyExists, s.code());
}

// Pack format v2 is unreadable to binaries that read only v1 packs; such a
// binary refuses any config but "qm-snap repository v1". So the first writer
// of a v1 repository raises its config before it writes a pack, with a
// warning; readers and later writers leave it alone.
TEST_F(RepositoryTest, AVersionOneRepositoryIsRaisedToVersionTwoByItsFirstWriterOnly) {
  root_ = dir_.path() + "/repo-v1";
  RepoConfig v1;
  v1.version = 1;
  ASSERT_TRUE(Repository::Init(env_, root_, v1).ok());
  auto first_line = [&] {
    std::string text = ReadFileToString(root_ + "/config");
    return text.substr(0, text.find('\n'));
  };
  ASSERT_EQ("qm-snap repository v1", first_line());
  {
    auto reader = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ(1u, (*reader)->config().version);
  }
  EXPECT_EQ("qm-snap repository v1", first_line());
  std::vector<std::string> warnings;
  {
    auto writer = OpenWrite(&warnings);
    ASSERT_TRUE(writer);
    EXPECT_EQ(2u, writer->config().version);
    EXPECT_EQ("qm-snap repository v2", first_line());
    Save(writer.get(), "written after the upgrade");
    CommitEmpty(writer.get(), 1000);
  }
  ASSERT_EQ(1u, warnings.size());
  EXPECT_NE(std::string::npos, warnings[0].find("from format v1 to v2")) << warnings[0];
  auto config = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(config.ok());
  RepoConfig expected = v1;
  expected.version = 2;
  expected.repo_id = (*config)->config().repo_id;
  EXPECT_EQ(expected, (*config)->config());  // nothing else in it changed
  warnings.clear();
  EXPECT_TRUE(OpenWrite(&warnings));
  EXPECT_TRUE(warnings.empty());
}

TEST_F(RepositoryTest, OpeningAMissingRepositorySaysHowToCreateIt) {
  auto r = Repository::Open(env_, dir_.path() + "/nothing", OpenMode::kWrite);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(std::string::npos, r.status().message().find("qm-snap init")) << r.status().message();
}

TEST_F(RepositoryTest, SecondWriterIsRefusedAndToldWhoHoldsTheLock) {
  auto first = OpenWrite();
  auto second = Repository::Open(env_, root_, OpenMode::kWrite);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(Code::kLocked, second.status().code());
  EXPECT_NE(std::string::npos, second.status().message().find("pid=")) << second.status().message();
  // Readers are never blocked by a writer.
  EXPECT_TRUE(Repository::Open(env_, root_, OpenMode::kReadOnly).ok());
  first.reset();
  EXPECT_TRUE(Repository::Open(env_, root_, OpenMode::kWrite).ok());
}

TEST_F(RepositoryTest, StaleLockOfADeadProcessIsTakenOverWithAWarning) {
  WriteStringToFile(root_ + "/lock", "pid=2147480000 host=old-host time=2025-01-29T14:30:22+00:00\n");
  std::vector<std::string> warnings;
  auto repo = OpenWrite(&warnings);
  ASSERT_NE(nullptr, repo);
  ASSERT_EQ(1u, warnings.size());
  EXPECT_NE(std::string::npos, warnings[0].find("stale lock")) << warnings[0];
  EXPECT_NE(std::string::npos, warnings[0].find("2147480000")) << warnings[0];
}

TEST_F(RepositoryTest, SavedBlobsAreDeduplicatedAndReadBackAfterReopen) {
  std::string a = RandomBytes(100000, 1), b = std::string(50000, 'x');
  Hash256 ida, idb;
  {
    auto repo = OpenWrite();
    ida = Save(repo.get(), a);
    idb = Save(repo.get(), b);
    Save(repo.get(), a, /*expect_new=*/false);  // pending in the open pack
    CommitEmpty(repo.get(), 1000);
    Save(repo.get(), b, /*expect_new=*/false);  // now in the index
  }
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  Bytes out;
  ASSERT_TRUE((*repo)->LoadBlob(ida, &out).ok());
  EXPECT_EQ(a, std::string(out.begin(), out.end()));
  ASSERT_TRUE((*repo)->LoadBlob(idb, &out).ok());
  EXPECT_EQ(b, std::string(out.begin(), out.end()));
}

// Holds the creation of the first pack file until released, so a test can
// keep one saver inside its pack write.
class HoldFirstPackEnv : public EnvWrapper {
 public:
  HoldFirstPackEnv(Env* target, std::shared_future<void> release) : EnvWrapper(target), release_(std::move(release)) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, uint32_t mode) override {
    if (path.find("/tmp/pack-") != std::string::npos && !held_.exchange(true)) {
      entered_.set_value();
      release_.wait();
    }
    return target()->NewWritableFile(path, mode);
  }
  std::future<void> Entered() { return entered_.get_future(); }

 private:
  std::shared_future<void> release_;
  std::atomic<bool> held_{false};
  std::promise<void> entered_;
};

TEST_F(RepositoryTest, ASaverInsideItsPackWriteDoesNotHoldUpAnother) {
  std::promise<void> release;
  HoldFirstPackEnv env(env_, release.get_future().share());
  std::future<void> entered = env.Entered();
  std::string a = RandomBytes(5000, 1), b = RandomBytes(5000, 2);
  Hash256 ida = Sha256(AsBytes(a)), idb = Sha256(AsBytes(b));
  {
    auto opened = Repository::Open(&env, root_, OpenMode::kWrite);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Repository* repo = opened->get();
    std::thread first([&] { Save(repo, a); });
    entered.wait();  // the first saver is creating its pack
    auto second = std::async(std::launch::async, [&] { Save(repo, b); });
    // Generous: the second save takes milliseconds unless it waits for the
    // first, which only the release below ends.
    const bool finished = second.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
    release.set_value();
    first.join();
    second.wait();
    EXPECT_TRUE(finished) << "the second blob waited for the first blob's pack write";
    Save(repo, a, /*expect_new=*/false);  // pending in its own open pack
    Save(repo, b, /*expect_new=*/false);
    CommitEmpty(repo, 1000);
  }
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  Bytes out;
  ASSERT_TRUE((*repo)->LoadBlob(ida, &out).ok());
  EXPECT_EQ(a, std::string(out.begin(), out.end()));
  ASSERT_TRUE((*repo)->LoadBlob(idb, &out).ok());
  EXPECT_EQ(b, std::string(out.begin(), out.end()));
}

TEST_F(RepositoryTest, UncommittedBlobsNeverMakeASnapshotVisible) {
  {
    auto repo = OpenWrite();
    Save(repo.get(), RandomBytes(1000, 2));
    ASSERT_TRUE(repo->Flush().ok());
  }  // dropped without CommitSnapshot
  auto repo = OpenWrite();
  auto snaps = repo->ListSnapshots();
  ASSERT_TRUE(snaps.ok());
  EXPECT_TRUE(snaps->empty());
}

// Every blob type (data, tree, chunk-list block) has to survive the trip
// through the RocksDB index's value encoding, not only the in-memory table
// of the pack being written.
TEST_F(RepositoryTest, EveryBlobTypeIsFoundThroughTheIndexAfterReopen) {
  const BlobType types[] = {BlobType::kData, BlobType::kTree, BlobType::kList};
  std::vector<std::pair<Hash256, std::string>> saved;
  {
    auto repo = OpenWrite();
    for (BlobType t : types) {
      std::string data = RandomBytes(5000, static_cast<int>(t));
      Hash256 id = Sha256(AsBytes(data));
      ASSERT_TRUE(repo->SaveBlob(t, id, AsBytes(data)).ok());
      saved.emplace_back(id, data);
    }
    CommitEmpty(repo.get(), 1000);
  }
  auto repo = OpenWrite();
  for (const auto& [id, data] : saved) {
    Bytes out;
    Status s = repo->LoadBlob(id, &out);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(data, std::string(out.begin(), out.end()));
  }
}

TEST_F(RepositoryTest, FindSnapshotByLatestIdAndPrefix) {
  auto repo = OpenWrite();
  Hash256 older = CommitEmpty(repo.get(), 1000);
  Save(repo.get(), "different content so the next snapshot differs");
  SnapshotRecord rec;
  rec.time_unix = 2000;
  rec.hostname = "h";
  rec.source = "/src";
  rec.root_tree = Sha256(EncodeTree(Tree{}));
  auto newer = repo->CommitSnapshot(rec);
  ASSERT_TRUE(newer.ok());
  auto latest = repo->FindSnapshot("latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*newer, latest->id);
  auto by_prefix = repo->FindSnapshot(older.Hex().substr(0, 10));
  ASSERT_TRUE(by_prefix.ok());
  EXPECT_EQ(older, by_prefix->id);
  auto full_upper = repo->FindSnapshot(older.ShortHex());
  ASSERT_TRUE(full_upper.ok());
  EXPECT_EQ(Code::kInvalidArgument, repo->FindSnapshot("zz").status().code());
  EXPECT_TRUE(repo->FindSnapshot("00000000000000").status().IsNotFound() ||
              older.Hex().rfind("00000000000000", 0) == 0);
}

TEST_F(RepositoryTest, DeletedIndexIsRebuiltFromThePacks) {
  std::string data = RandomBytes(300000, 3);
  Hash256 id;
  {
    auto repo = OpenWrite();
    id = Save(repo.get(), data);
    CommitEmpty(repo.get(), 1000);
  }
  fs::remove_all(root_ + "/index");
  {
    // Readers fall back to the packs' own tables without touching the disk.
    auto ro = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(ro.ok());
    Bytes out;
    EXPECT_TRUE((*ro)->LoadBlob(id, &out).ok());
  }
  std::vector<std::string> warnings;
  auto repo = OpenWrite(&warnings);
  auto has = repo->HasBlob(id);
  ASSERT_TRUE(has.ok());
  EXPECT_TRUE(*has);
  Save(repo.get(), data, /*expect_new=*/false);
}

// A snapshot's chunks are trusted to be indexed only while no pack has been
// removed since its commit; an index rebuilt without its marks trusts nothing.
TEST_F(RepositoryTest, SnapshotChunksAreTrustedIndexedOnlyUntilAPackIsRemoved) {
  Hash256 snap;
  std::string pack_file;
  {
    auto repo = OpenWrite();
    Hash256 id = Save(repo.get(), RandomBytes(100000, 9));
    snap = CommitEmpty(repo.get(), 1000);
    auto still = repo->SnapshotChunksStillIndexed(snap);
    ASSERT_TRUE(still.ok());
    EXPECT_TRUE(*still);
    auto loc = repo->index().value()->Lookup(id);
    ASSERT_TRUE(loc.ok() && loc->has_value());
    pack_file = repo->layout().PackFile((*loc)->pack);
  }
  {
    auto repo = OpenWrite();
    auto still = repo->SnapshotChunksStillIndexed(snap);
    ASSERT_TRUE(still.ok());
    EXPECT_TRUE(*still) << "reopening changes nothing";
  }
  ASSERT_TRUE(fs::remove(pack_file));
  {
    auto repo = OpenWrite();  // reconciles: the pack is dropped from the index
    auto still = repo->SnapshotChunksStillIndexed(snap);
    ASSERT_TRUE(still.ok());
    EXPECT_FALSE(*still);
    Hash256 later = CommitEmpty(repo.get(), 2000);
    auto fresh = repo->SnapshotChunksStillIndexed(later);
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(*fresh) << "a snapshot committed after the removal is trusted again";
  }
  fs::remove_all(root_ + "/index");
  auto repo = OpenWrite();
  auto still = repo->SnapshotChunksStillIndexed(snap);
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(*still) << "a rebuilt index has no marks";
}

TEST_F(RepositoryTest, AMissingPackIsDroppedFromTheIndexSoNothingDedupsAgainstIt) {
  std::string data = RandomBytes(200000, 4);
  Hash256 id;
  {
    auto repo = OpenWrite();
    id = Save(repo.get(), data);
    CommitEmpty(repo.get(), 1000);
  }
  auto packs = [&] {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(root_ + "/packs"))
      if (e.is_regular_file()) out.push_back(e.path());
    return out;
  }();
  ASSERT_EQ(2u, packs.size());  // one data pack, one tree pack
  for (const auto& p : packs) fs::remove(p);
  std::vector<std::string> warnings;
  auto repo = OpenWrite(&warnings);
  EXPECT_TRUE(warnings.empty());  // the index is reconciled when first used
  auto has = repo->HasBlob(id);
  ASSERT_TRUE(has.ok());
  EXPECT_FALSE(*has);
  EXPECT_EQ(2u, warnings.size());
  Save(repo.get(), data, /*expect_new=*/true);
}

TEST_F(RepositoryTest, AWriterOpensTheIndexOnlyWhenSomethingNeedsIt) {
  std::string data = RandomBytes(5000, 6);
  Hash256 id;
  {
    auto repo = OpenWrite();
    EXPECT_FALSE(repo->index_opened());
    id = Save(repo.get(), data);
    EXPECT_TRUE(repo->index_opened());
    CommitEmpty(repo.get(), 1000);
  }
  auto repo = OpenWrite();
  EXPECT_FALSE(repo->index_opened());
  auto has = repo->HasBlob(id);
  ASSERT_TRUE(has.ok());
  EXPECT_TRUE(*has);
  EXPECT_TRUE(repo->index_opened());
}

TEST_F(RepositoryTest, LoadBlobDetectsAFlippedByteInAPack) {
  std::string data = RandomBytes(5000, 5);
  Hash256 id;
  {
    auto repo = OpenWrite();
    id = Save(repo.get(), data);
    CommitEmpty(repo.get(), 1000);
  }
  FlipAByteOf(id);
  auto fresh = Repository::Open(env_, root_, OpenMode::kReadOnly);
  Bytes out;
  Status s = (*fresh)->LoadBlob(id, &out);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

// The restore's read path: many blobs (enough to go through the packs'
// tables) decoded one after another into one buffer, in the order asked,
// with their sizes; compressible and incompressible blobs alike; and a
// flipped byte in one of them is Corruption, not wrong bytes.
TEST_F(RepositoryTest, LoadBlobsConcatenatedGivesTheBlobsInOrderAndDetectsAFlippedByte) {
  std::vector<std::string> blobs;
  std::vector<Hash256> ids;
  {
    auto repo = OpenWrite();
    for (int i = 0; i < 200; i++) {
      blobs.push_back(i % 2 ? RandomBytes(1000 + i, i) : std::string(3000 + i, static_cast<char>('a' + i % 26)));
      ids.push_back(Save(repo.get(), blobs.back()));
    }
    CommitEmpty(repo.get(), 1000);
  }
  std::vector<Hash256> order(ids.rbegin(), ids.rend());  // not the order they were stored in
  std::string want;
  for (auto it = blobs.rbegin(); it != blobs.rend(); ++it) want += *it;
  {
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok());
    Bytes out;
    std::vector<uint32_t> sizes;
    ASSERT_TRUE((*repo)->LoadBlobsConcatenated(order.data(), order.size(), &out, &sizes).ok());
    ASSERT_EQ(sizes.size(), order.size());
    for (size_t k = 0; k < sizes.size(); k++) EXPECT_EQ(sizes[k], blobs[blobs.size() - 1 - k].size()) << k;
    EXPECT_TRUE(std::string(out.begin(), out.end()) == want);
  }
  FlipAByteOf(ids[77]);
  auto fresh = Repository::Open(env_, root_, OpenMode::kReadOnly);
  Bytes out;
  std::vector<uint32_t> sizes;
  Status s = (*fresh)->LoadBlobsConcatenated(order.data(), order.size(), &out, &sizes);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find(ids[77].ShortHex()), std::string::npos) << s.ToString();
}

// A page-like blob: compressible (text) with some random bytes in it.
std::string PageLike(size_t n, uint64_t seed) {
  std::string s;
  while (s.size() < n) s += "order " + std::to_string(seed * 1000 + s.size()) + " BTCUSDT buy ";
  s.resize(n);
  const std::string noise = RandomBytes(n / 8, seed);
  std::copy(noise.begin(), noise.end(), s.begin() + static_cast<std::ptrdiff_t>(n / 2));
  return s;
}

// SaveBlobs: new small blobs share zstd frames (at most 16 and 64 KiB of
// them), a blob over 16 KiB gets a frame of its own, ids already stored or
// repeated in the call are not stored again, the bytes reported are the
// frames' bytes; every blob reads back alone and in bulk, after reopening.
TEST_F(RepositoryTest, SmallBlobsSavedTogetherShareFramesAndReadBackOneByOne) {
  std::vector<std::string> blobs;
  std::vector<Hash256> ids;
  for (int i = 0; i < 40; i++) blobs.push_back(PageLike(4096, i));
  blobs.push_back(PageLike(20000, 99));  // too large to share
  blobs.push_back(blobs[0]);             // repeated in the call
  for (const std::string& b : blobs) ids.push_back(Sha256(AsBytes(b)));
  uint64_t reported = 0;
  {
    auto repo = OpenWrite();
    Save(repo.get(), blobs[39]);  // already stored when SaveBlobs runs
    std::vector<ByteView> raws;
    for (const std::string& b : blobs) raws.push_back(AsBytes(b));
    auto r = repo->SaveBlobs(BlobType::kData, ids.data(), raws.data(), raws.size());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->added);
    EXPECT_EQ(r->blobs_added, 40u);  // pages 0-38 and the large one
    reported = r->stored_bytes;
    CommitEmpty(repo.get(), 1000);
  }
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  // What the packs hold: frames of 16, 16 and 7 pages, two frames alone.
  std::map<std::pair<Hash256, uint64_t>, std::vector<PackEntry>> frames;
  auto packs = (*repo)->ListPacksOnDisk();
  ASSERT_TRUE(packs.ok());
  for (const Hash256& p : *packs) {
    auto reader = (*repo)->OpenPack(p);
    ASSERT_TRUE(reader.ok());
    auto toc = (*reader)->ReadToc();
    ASSERT_TRUE(toc.ok());
    for (const PackEntry& e : *toc) {
      if (e.type == BlobType::kData) frames[{p, e.offset}].push_back(e);
    }
  }
  std::vector<size_t> sizes;
  uint64_t stored = 0;
  for (const auto& [where, members] : frames) {
    sizes.push_back(members.size());
    const bool shared = members.size() > 1;
    for (const PackEntry& e : members) EXPECT_EQ(e.shared_frame(), shared);
    if (members[0].id != ids[39]) stored += members[0].stored_len;
  }
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 1, 7, 16, 16}));
  EXPECT_EQ(reported, stored);
  for (size_t i = 0; i < 41; i++) {
    Bytes out;
    ASSERT_TRUE((*repo)->LoadBlob(ids[i], &out).ok()) << i;
    EXPECT_TRUE(std::string(out.begin(), out.end()) == blobs[i]) << i;
  }
  std::vector<Hash256> order(ids.rbegin() + 1, ids.rend());  // not the order they were stored in
  std::string want;
  for (size_t i = 41; i-- > 0;) want += blobs[i];
  Bytes out;
  std::vector<uint32_t> lens;
  ASSERT_TRUE((*repo)->LoadBlobsConcatenated(order.data(), order.size(), &out, &lens).ok());
  EXPECT_TRUE(std::string(out.begin(), out.end()) == want);
  // Alternating between frames (read in pack order, given in the order asked).
  std::vector<Hash256> mixed;
  want.clear();
  for (size_t i = 0; i < 16; i++) {
    for (size_t j : {i, i + 16, 40 - i % 2}) {
      mixed.push_back(ids[j]);
      want += blobs[j];
    }
  }
  ASSERT_TRUE((*repo)->LoadBlobsConcatenated(mixed.data(), mixed.size(), &out, &lens).ok());
  EXPECT_TRUE(std::string(out.begin(), out.end()) == want);
}

// Bulk reads read a pack's table only for a pack that holds a run of the
// blobs asked for. A restore after many hourly runs asks, in runs of 256,
// for a file whose pages are mostly in the first run's pack and a few in
// each hour's pack: those few are located through the index, while a pack
// holding a run of 64 new pages has its table read. Every blob is loaded
// right either way.
TEST_F(RepositoryTest, OnlyAPackHoldingARunOfTheBlobsAskedForHasItsTableRead) {
  constexpr size_t kPages = 1024, kHours = 20;
  std::vector<std::string> file;
  std::vector<Hash256> ids;
  auto save = [&](Repository* repo, const std::vector<size_t>& places, uint64_t seed) {
    std::vector<Hash256> new_ids;
    std::vector<ByteView> raws;
    for (size_t k = 0; k < places.size(); k++) {
      file[places[k]] = PageLike(4096, seed + k);
      ids[places[k]] = Sha256(AsBytes(file[places[k]]));
    }
    for (size_t p : places) {
      new_ids.push_back(ids[p]);
      raws.push_back(AsBytes(file[p]));
    }
    auto r = repo->SaveBlobs(BlobType::kData, new_ids.data(), raws.data(), raws.size(), places.data());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(repo->Flush().ok());  // each run's pages in packs of their own
  };
  file.resize(kPages);
  ids.resize(kPages);
  size_t first_run_packs = 0;
  {
    auto repo = OpenWrite();
    std::vector<size_t> all(kPages);
    for (size_t i = 0; i < kPages; i++) all[i] = i;
    save(repo.get(), all, 1);
    auto packs = repo->ListPacksOnDisk();
    ASSERT_TRUE(packs.ok());
    first_run_packs = packs->size();
    for (size_t h = 0; h < kHours; h++) {
      std::vector<size_t> scattered;  // 4 pages, one in each run of 256
      for (size_t q = 0; q < 4; q++) scattered.push_back(q * 256 + (h * 37 + q * 11) % 256);
      save(repo.get(), scattered, 100000 + h * 100);
    }
    CommitEmpty(repo.get(), 1000);
  }
  auto read_all = [&](Repository* repo) {
    std::string want, got;
    for (size_t first = 0; first < kPages; first += 256) {
      Bytes out;
      std::vector<uint32_t> sizes;
      ASSERT_TRUE(repo->LoadBlobsConcatenated(ids.data() + first, 256, &out, &sizes).ok());
      got.append(out.begin(), out.end());
      for (size_t i = first; i < first + 256; i++) want += file[i];
    }
    EXPECT_TRUE(got == want);
  };
  {
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok());
    read_all(repo->get());
    EXPECT_EQ((*repo)->pack_tables_read(), first_run_packs);
  }
  {
    auto repo = OpenWrite();
    std::vector<size_t> run;
    for (size_t i = 600; i < 664; i++) run.push_back(i);
    save(repo.get(), run, 900000);
    CommitEmpty(repo.get(), 2000);
  }
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  read_all(repo->get());
  EXPECT_EQ((*repo)->pack_tables_read(), first_run_packs + 1);
}

// Counts the packs opened for reading.
class PackOpenCountingEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    if (p.size() > 5 && p.compare(p.size() - 5, 5, ".pack") == 0) opened++;
    return EnvWrapper::NewRandomAccessFile(p);
  }
  std::atomic<int> opened{0};
};

// A repository keeps the packs it reads open, many more than the 64 it
// used to: reading blobs from 300 packs in turn, twice, opens each pack
// once (the process limit on open files is raised first, as the CLI does).
TEST_F(RepositoryTest, PacksReadInTurnAreOpenedOnceEach) {
  ASSERT_GE(RaiseOpenFileLimit(), 1024u);
  constexpr int kPacks = 300;
  std::vector<Hash256> ids;
  {
    auto repo = OpenWrite();
    for (int i = 0; i < kPacks; i++) {
      ids.push_back(Save(repo.get(), "blob " + std::to_string(i)));
      ASSERT_TRUE(repo->Flush().ok());  // one pack each
    }
    CommitEmpty(repo.get(), 1000);
  }
  PackOpenCountingEnv env(env_);
  auto repo = Repository::Open(&env, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < kPacks; i++) {
      Bytes out;
      ASSERT_TRUE((*repo)->LoadBlob(ids[i], &out).ok());
      EXPECT_EQ("blob " + std::to_string(i), std::string(out.begin(), out.end()));
    }
  }
  EXPECT_EQ(kPacks, env.opened.load());
}

// A damaged shared frame never yields wrong bytes: a blob read from it is
// its exact bytes or Corruption. Damage to the frame's content fails the
// blobs it lands in; damage to its header fails every blob in it; the
// blobs of other frames are untouched; alone or in bulk; also when the
// reading thread decoded the frame before it was damaged.
TEST_F(RepositoryTest, ADamagedSharedFrameFailsItsDamagedBlobsAndNoOther) {
  for (const bool header : {false, true}) {
    SCOPED_TRACE(header ? "frame header damaged" : "frame content damaged");
    root_ = dir_.path() + (header ? "/repo-header" : "/repo-content");
    ASSERT_TRUE(Repository::Init(env_, root_, RepoConfig{}).ok());
    std::vector<std::string> blobs;
    std::vector<Hash256> ids;
    std::vector<ByteView> raws;
    for (int i = 0; i < 20; i++) blobs.push_back(PageLike(4096, i));
    for (const std::string& b : blobs) {
      ids.push_back(Sha256(AsBytes(b)));
      raws.push_back(AsBytes(b));
    }
    {
      auto repo = OpenWrite();
      ASSERT_TRUE(repo->SaveBlobs(BlobType::kData, ids.data(), raws.data(), raws.size()).ok());
      CommitEmpty(repo.get(), 1000);
    }
    {
      // Read once before the damage: the frame this thread last decoded
      // must not hide the damage from the reads below.
      auto before = Repository::Open(env_, root_, OpenMode::kReadOnly);
      ASSERT_TRUE(before.ok());
      for (const Hash256& id : ids) {
        Bytes out;
        ASSERT_TRUE((*before)->LoadBlob(id, &out).ok());
      }
    }
    FlipAByteOf(ids[3], header);  // in the first frame: blobs 0-15
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok());
    size_t failed = 0;
    for (size_t i = 0; i < ids.size(); i++) {
      Bytes out;
      Status s = (*repo)->LoadBlob(ids[i], &out);
      if (i >= 16) {
        EXPECT_TRUE(s.ok()) << i << ": " << s.ToString();
      }
      if (s.ok()) {
        EXPECT_TRUE(std::string(out.begin(), out.end()) == blobs[i]) << i;
      } else {
        EXPECT_TRUE(s.IsCorruption()) << i << ": " << s.ToString();
        failed++;
      }
    }
    if (header) {
      EXPECT_EQ(failed, 16u);
    } else {
      EXPECT_GE(failed, 1u);
    }
    Bytes out;
    std::vector<uint32_t> lens;
    Status s = (*repo)->LoadBlobsConcatenated(ids.data() + 16, 4, &out, &lens);
    EXPECT_TRUE(s.ok()) << s.ToString();
    s = (*repo)->LoadBlobsConcatenated(ids.data(), 16, &out, &lens);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
}

// A loader keeps its buffers from run to run: each run's bytes are exactly
// its own blobs, whatever the buffers held before (longer, other content).
TEST_F(RepositoryTest, LoadBlobsConcatenatedWithReusedBuffersGivesEachRunItsOwnBytes) {
  std::vector<std::string> blobs;
  std::vector<Hash256> ids;
  {
    auto repo = OpenWrite();
    for (int i = 0; i < 120; i++) {
      blobs.push_back(RandomBytes(500 + 41 * i, 1000 + i));
      ids.push_back(Save(repo.get(), blobs.back()));
    }
    CommitEmpty(repo.get(), 1000);
  }
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  Bytes out(1u << 20, 0xEE);  // stale and longer than any run
  Bytes read_buffer(3u << 20, 0xDD);
  std::vector<uint32_t> sizes;
  // Runs of decreasing length, from different places, one pass backwards.
  const std::vector<std::pair<size_t, size_t>> runs = {{0, 100}, {100, 20}, {30, 5}, {119, 1}, {50, 60}};
  for (const auto& [first, n] : runs) {
    std::vector<Hash256> run(ids.begin() + static_cast<std::ptrdiff_t>(first),
                             ids.begin() + static_cast<std::ptrdiff_t>(first + n));
    std::string want;
    for (size_t k = first; k < first + n; k++) want += blobs[k];
    ASSERT_TRUE((*repo)->LoadBlobsConcatenated(run.data(), run.size(), &out, &sizes, &read_buffer).ok());
    ASSERT_EQ(n, sizes.size());
    EXPECT_EQ(want.size(), out.size()) << first;
    EXPECT_TRUE(std::string(out.begin(), out.end()) == want) << first;
  }
}

// The pack writer's buffer has a fixed size: a blob larger than it goes out
// on its own, between buffered ones, and the pack is still one whose name is
// the SHA-256 of its bytes, with every blob readable.
TEST_F(RepositoryTest, ABlobLargerThanThePackWritersBufferIsStoredBetweenSmallOnes) {
  std::vector<std::string> blobs = {RandomBytes(3000, 1), RandomBytes(900 * 1024, 2),      RandomBytes(3u << 20, 3),
                                    RandomBytes(5000, 4), RandomBytes((1u << 20) - 10, 5), RandomBytes(7, 6)};
  std::vector<Hash256> ids;
  {
    auto repo = OpenWrite();
    for (const std::string& b : blobs) ids.push_back(Save(repo.get(), b));
    CommitEmpty(repo.get(), 1000);
  }
  int packs = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root_ + "/packs")) {
    if (!e.is_regular_file()) continue;
    packs++;
    const std::string name = e.path().stem().string();
    std::string bytes = ReadFileToString(e.path().string());
    EXPECT_EQ(name, Sha256(AsBytes(bytes)).Hex()) << "a pack is named by the hash of its bytes";
  }
  EXPECT_GE(packs, 1);
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  for (size_t i = 0; i < blobs.size(); i++) {
    Bytes back;
    ASSERT_TRUE((*repo)->LoadBlob(ids[i], &back).ok()) << i;
    EXPECT_TRUE(std::string(back.begin(), back.end()) == blobs[i]) << i;
  }
}

TEST_F(RepositoryTest, APackOfTinyBlobsIsSealedAtTheBlobLimitBeforeItsTargetSize) {
  const size_t n = Repository::kPackMaxBlobs + 100;  // ~1 MiB stored: far below the 16 MiB target
  std::vector<Hash256> ids;
  {
    auto repo = OpenWrite();
    for (size_t i = 0; i < n; i++) ids.push_back(Save(repo.get(), "tiny blob " + std::to_string(i)));
    CommitEmpty(repo.get(), 1000);
  }
  std::vector<size_t> counts;
  for (const auto& e : fs::recursive_directory_iterator(root_ + "/packs")) {
    if (!e.is_regular_file()) continue;
    auto reader = PackReader::Open(env_, e.path().string(), Hash256::FromHex(e.path().stem().string()).value());
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto toc = (*reader)->ReadToc();
    ASSERT_TRUE(toc.ok()) << toc.status().ToString();
    counts.push_back(toc->size());
  }
  std::sort(counts.begin(), counts.end());
  // The data pack filled to the limit, the rest went to a second one; the
  // third is the tree pack of the commit.
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[2], Repository::kPackMaxBlobs);
  EXPECT_EQ(counts[1], 100u);
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  for (size_t i : {size_t{0}, Repository::kPackMaxBlobs - 1, Repository::kPackMaxBlobs, n - 1}) {
    Bytes back;
    ASSERT_TRUE((*repo)->LoadBlob(ids[i], &back).ok()) << i;
    EXPECT_EQ(std::string(back.begin(), back.end()), "tiny blob " + std::to_string(i));
  }
}

// The pack tables are a shortcut: a pack whose table of contents is damaged
// (its blobs intact) is still read in bulk, at the index's locations.
TEST_F(RepositoryTest, BulkReadsOfAPackWithADamagedTableUseTheIndex) {
  std::string want;
  std::vector<Hash256> ids;
  {
    auto repo = OpenWrite();
    for (int i = 0; i < 100; i++) {
      const std::string blob = RandomBytes(2000 + i, 1000 + i);
      want += blob;
      ids.push_back(Save(repo.get(), blob));
    }
    CommitEmpty(repo.get(), 1000);
  }
  {
    auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok());
    auto loc = (*repo)->index().value()->Lookup(ids[0]);
    ASSERT_TRUE(loc.ok() && loc->has_value());
    const std::string path = (*repo)->layout().PackFile((*loc)->pack);
    std::string bytes = ReadFileToString(path);
    bytes[bytes.size() - 40] ^= 0x01;  // in the table of contents / trailer, after every blob
    WriteStringToFile(path, bytes);
    auto pack = (*repo)->OpenPack((*loc)->pack);
    ASSERT_TRUE(pack.ok());
    ASSERT_FALSE((*pack)->ReadToc().ok()) << "the test must damage the table";
  }
  auto repo = Repository::Open(env_, root_, OpenMode::kReadOnly);
  ASSERT_TRUE(repo.ok());
  Bytes out;
  std::vector<uint32_t> sizes;
  Status s = (*repo)->LoadBlobsConcatenated(ids.data(), ids.size(), &out, &sizes);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(std::string(out.begin(), out.end()) == want);
}

// Listing reads one cache file instead of every record, but snapshots/
// decides what exists: a removed snapshot is not listed from the cache, a
// new one is read from its file, and a damaged cache only costs the reads.
TEST_F(RepositoryTest, ListedSnapshotsFollowTheDirectoryWhateverTheCacheHolds) {
  std::vector<Hash256> ids;
  {
    auto repo = OpenWrite();
    for (int i = 0; i < 20; i++) ids.push_back(CommitEmpty(repo.get(), 1000 + i));
    ASSERT_EQ(20u, repo->ListSnapshots()->size());  // 20 read from files: the cache is written
  }
  const std::string cache_dir = root_ + "/cache";
  ASSERT_TRUE(fs::exists(cache_dir) && !fs::is_empty(cache_dir));
  auto listed_ids = [&](Repository* repo) {
    std::vector<Hash256> out;
    auto all = repo->ListSnapshots();
    EXPECT_TRUE(all.ok());
    if (all.ok())
      for (const Snapshot& s : *all) out.push_back(s.id);
    return out;
  };
  ASSERT_TRUE(fs::remove(root_ + "/snapshots/" + ids[3].Hex()));
  Hash256 added;
  {
    auto repo = OpenWrite();
    added = CommitEmpty(repo.get(), 2000);
  }
  std::vector<Hash256> want = ids;
  want.erase(want.begin() + 3);
  want.push_back(added);
  {
    auto reader = Repository::Open(env_, root_, OpenMode::kReadOnly);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(want, listed_ids(reader->get()));
  }
  for (const auto& e : fs::directory_iterator(cache_dir)) {
    std::string bytes = ReadFileToString(e.path());
    bytes[bytes.size() / 2] ^= 0x40;
    WriteStringToFile(e.path(), bytes);
  }
  auto reader = Repository::Open(env_, root_, OpenMode::kReadOnly);
  EXPECT_EQ(want, listed_ids(reader->get()));
}

}  // namespace
}  // namespace qm
