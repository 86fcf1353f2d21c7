// The RocksDB chunk index across many short writer sessions, as hourly
// backups open and close it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/io/allocator.h"
#include "store/repo/chunk_index.h"
#include "tests/support/heap_pages.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

size_t CountFiles(const std::string& dir, const std::string& extension) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == extension) n++;
  return n;
}

size_t CountTables(const std::string& dir) {
  return CountFiles(dir, ".sst");
}

Hash256 IdOf(int session, int i) {
  return Sha256(AsBytes("s" + std::to_string(session) + "/" + std::to_string(i)));
}

Hash256 PackOf(int session) {
  return Sha256(AsBytes("pack" + std::to_string(session)));
}

// `keys` blobs of 100 bytes, one after another, as one session's pack adds.
std::vector<PackEntry> EntriesOf(int session, int keys) {
  std::vector<PackEntry> entries;
  for (int i = 0; i < keys; i++) {
    PackEntry e;
    e.id = IdOf(session, i);
    e.offset = 8 + 100u * i;
    e.stored_len = e.raw_len = 100;
    entries.push_back(e);
  }
  return entries;
}

// Every session flushes (threshold 0), so each leaves a level-0 file; without
// the close-time compaction they pile up until RocksDB stalls, then stops,
// all writes.
TEST(RocksChunkIndexTest, LevelZeroFilesDoNotPileUpOverManyShortSessions) {
  TempDir dir;
  const std::string path = dir.path() + "/index";
  RocksIndexOptions options;
  options.flush_on_close_entries = 0;
  constexpr int kSessions = 12;
  for (int s = 0; s < kSessions; s++) {
    auto index = OpenRocksChunkIndex(path, options);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    ASSERT_TRUE((*index)->AddPack(PackOf(s), EntriesOf(s, 200)).ok());
    ASSERT_TRUE((*index)->Sync().ok());
    index->reset();  // close
    EXPECT_LE(CountTables(path), 4u) << "after session " << s;
  }
  // Nothing was lost by the compactions.
  auto index = OpenRocksChunkIndex(path, /*read_only=*/true);
  ASSERT_TRUE(index.ok());
  for (int s = 0; s < kSessions; s++) {
    auto loc = (*index)->Lookup(IdOf(s, 199));
    ASSERT_TRUE(loc.ok());
    ASSERT_TRUE(loc->has_value()) << "session " << s;
    EXPECT_EQ((*loc)->pack, PackOf(s));
  }
}

// Small sessions leave their keys in the WAL instead of a file each, and the
// next open still finds them.
TEST(RocksChunkIndexTest, SmallSessionsStayInTheWalAndAreFoundAfterReopen) {
  TempDir dir;
  const std::string path = dir.path() + "/index";
  for (int s = 0; s < 3; s++) {
    auto index = OpenRocksChunkIndex(path, /*read_only=*/false);
    ASSERT_TRUE(index.ok());
    PackEntry e;
    e.id = IdOf(s, 0);
    e.offset = 8;
    e.stored_len = e.raw_len = 10;
    ASSERT_TRUE((*index)->AddPack(Sha256(AsBytes("p" + std::to_string(s))), {e}).ok());
    ASSERT_TRUE((*index)->Sync().ok());
  }
  EXPECT_EQ(CountTables(path), 0u);
  auto index = OpenRocksChunkIndex(path, /*read_only=*/true);
  ASSERT_TRUE(index.ok());
  for (int s = 0; s < 3; s++) {
    auto loc = (*index)->Lookup(IdOf(s, 0));
    ASSERT_TRUE(loc.ok() && loc->has_value()) << "session " << s;
  }
}

// A blob in a shared frame keeps where it lies in the frame through the
// index, from the memtable and from a table, alone and in batches; a blob
// alone in its frame keeps the short value of earlier versions.
TEST(RocksChunkIndexTest, SharedFrameLocationsRoundTrip) {
  TempDir dir;
  const std::string path = dir.path() + "/index";
  const Hash256 pack = PackOf(7);
  std::vector<PackEntry> entries;
  for (int i = 0; i < 3; i++) {
    PackEntry e;
    e.type = BlobType::kData;
    e.compression = Compression::kZstd;
    e.id = IdOf(7, i);
    e.offset = 8;
    e.stored_len = 2000;
    e.raw_len = 4096;
    e.frame_raw_len = 3 * 4096;
    e.raw_offset = 4096u * i;
    entries.push_back(e);
  }
  PackEntry alone;
  alone.compression = Compression::kZstd;
  alone.id = IdOf(7, 3);
  alone.offset = 2008;
  alone.stored_len = 900;
  alone.raw_len = 4096;
  entries.push_back(alone);
  for (const bool flushed : {false, true}) {
    SCOPED_TRACE(flushed ? "from a table" : "from the memtable");
    RocksIndexOptions options;
    options.flush_on_close_entries = 0;  // the first session's close makes a table
    options.read_only = flushed;
    {
      auto index = OpenRocksChunkIndex(path, options);
      ASSERT_TRUE(index.ok());
      if (!flushed) {
        ASSERT_TRUE((*index)->AddPack(pack, entries).ok());
        ASSERT_TRUE((*index)->Sync().ok());
      }
      std::vector<Hash256> ids;
      for (const PackEntry& e : entries) ids.push_back(e.id);
      std::vector<std::optional<BlobLocation>> many;
      ASSERT_TRUE((*index)->LookupMany(ids.data(), ids.size(), &many).ok());
      for (size_t i = 0; i < entries.size(); i++) {
        auto one = (*index)->Lookup(entries[i].id);
        ASSERT_TRUE(one.ok() && one->has_value()) << i;
        EXPECT_EQ(**one, BlobLocation::Of(pack, entries[i])) << i;
        ASSERT_TRUE(many[i].has_value()) << i;
        EXPECT_EQ(*many[i], BlobLocation::Of(pack, entries[i])) << i;
      }
    }
    if (!flushed) {
      EXPECT_GE(CountTables(path), 1u);
    }
  }
}

// A session that adds an hourly run's worth of keys (thousands) flushes them
// into a table at close, so later opens do not replay them from the WAL; a
// session that adds one key (an unchanged run) does not make a table.
TEST(RocksChunkIndexTest, AnHourlySizedSessionFlushesAndAOneKeySessionDoesNot) {
  TempDir dir;
  const std::string path = dir.path() + "/index";
  auto session = [&](int s, int keys) {
    auto index = OpenRocksChunkIndex(path, /*read_only=*/false);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    ASSERT_TRUE((*index)->AddPack(PackOf(s), EntriesOf(s, keys)).ok());
    ASSERT_TRUE((*index)->Sync().ok());
  };
  session(0, 1);
  EXPECT_EQ(0u, CountTables(path)) << "one key stays in the WAL";
  session(1, RocksIndexOptions().flush_on_close_entries + 500);
  EXPECT_EQ(1u, CountTables(path)) << "an hourly run's keys become a table at close";
  session(2, 1);
  EXPECT_EQ(1u, CountTables(path));
  auto index = OpenRocksChunkIndex(path, /*read_only=*/true);
  ASSERT_TRUE(index.ok());
  for (int s : {0, 1, 2}) {
    auto loc = (*index)->Lookup(IdOf(s, 0));
    ASSERT_TRUE(loc.ok() && loc->has_value()) << "session " << s;
  }
}

// Every open starts a WAL file and keeps the older ones while their entries
// are unflushed: a quiet weekend of one-key (unchanged) runs must not leave a
// file per run for each later open to replay; every entry is still found.
TEST(RocksChunkIndexTest, OneKeySessionsDoNotPileUpWalFiles) {
  TempDir dir;
  const std::string path = dir.path() + "/index";
  for (int s = 0; s < 40; s++) {
    auto index = OpenRocksChunkIndex(path, /*read_only=*/false);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    ASSERT_TRUE((*index)->AddPack(PackOf(s), EntriesOf(s, 1)).ok());
    ASSERT_TRUE((*index)->Sync().ok());
  }
  EXPECT_LE(CountFiles(path, ".log"), 9u);
  EXPECT_LE(CountTables(path), 5u) << "the flushes are compacted like any other";
  auto index = OpenRocksChunkIndex(path, /*read_only=*/true);
  ASSERT_TRUE(index.ok());
  for (int s = 0; s < 40; s++) {
    auto loc = (*index)->Lookup(IdOf(s, 0));
    ASSERT_TRUE(loc.ok() && loc->has_value()) << "session " << s;
  }
}

// RocksDB's flushes run on its own threads, whose arenas keep a job's
// buffers resident after it ends; the index gives free heap pages back when
// a flush completes. Here the free pages are the test's own, left below a
// live block where free() does not return them: a flush must release them.
TEST(RocksChunkIndexTest, AFlushGivesFreeHeapPagesBackToTheSystem) {
  if (!kGlibcMalloc) GTEST_SKIP() << "glibc's malloc is not the allocator here";
  ReturnLargeBuffersOnFree();
  TempDir dir;
  const std::string path = dir.path() + "/index";
  RocksIndexOptions options;
  options.flush_on_close_entries = 0;
  auto index = OpenRocksChunkIndex(path, options);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_TRUE((*index)->AddPack(PackOf(0), EntriesOf(0, 200)).ok());
  void* live = LeaveFreeHeapPagesBelowALiveBlock(64u << 20);
  const size_t before = ResidentBytes();
  ASSERT_GT(before, 48u << 20) << "the freed pages are still resident";
  index->reset();  // close: flushes the 200 entries
  // The listener runs on RocksDB's thread; wait for its effect, not for a
  // time (a slow machine only waits longer).
  size_t now = ResidentBytes();
  for (int i = 0; i < 1000 && now + (48u << 20) > before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = ResidentBytes();
  }
  EXPECT_LE(now + (48u << 20), before) << "the flush gave the freed 64 MiB back: " << before << " -> " << now;
  EXPECT_EQ(1u, CountTables(path)) << "the close flushed";
  std::free(live);
}

}  // namespace
}  // namespace qm
