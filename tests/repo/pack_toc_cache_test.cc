// PackTocCache: locations from packs' own tables for bulk reads.
#include "store/repo/pack_toc_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qm {
namespace {

Hash256 Id(const std::string& s) {
  return Sha256(AsBytes(s));
}

std::vector<PackEntry> Toc(const std::string& prefix, int n, uint64_t first_offset) {
  std::vector<PackEntry> toc;
  for (int i = 0; i < n; i++) {
    PackEntry e;
    e.id = Id(prefix + std::to_string(i));
    e.type = BlobType::kData;
    e.compression = i % 2 ? Compression::kZstd : Compression::kNone;
    e.offset = first_offset + 100u * i;
    e.stored_len = 90 + i;
    e.raw_len = 4096;
    toc.push_back(e);
  }
  return toc;
}

TEST(PackTocCacheTest, FindsEveryBlobOfALoadedTableWithItsPackAndLengths) {
  PackTocCache cache(1000);
  const Hash256 pack = Id("pack-a");
  EXPECT_FALSE(cache.Has(pack));
  EXPECT_FALSE(cache.Find(Id("a3")).has_value());
  const auto toc = Toc("a", 10, 8);
  cache.Add(pack, toc);
  EXPECT_TRUE(cache.Has(pack));
  for (const PackEntry& e : toc) {
    auto loc = cache.Find(e.id);
    ASSERT_TRUE(loc.has_value());
    EXPECT_EQ(loc->pack, pack);
    EXPECT_EQ(loc->offset, e.offset);
    EXPECT_EQ(loc->stored_len, e.stored_len);
    EXPECT_EQ(loc->raw_len, e.raw_len);
    EXPECT_EQ(loc->compression, e.compression);
    EXPECT_EQ(loc->type, e.type);
  }
  EXPECT_FALSE(cache.Find(Id("b0")).has_value());
}

// FindMany answers as Find does for each id, under one lock: the held ones
// get their locations, the others are listed in order, untouched.
TEST(PackTocCacheTest, FindManyLocatesTheHeldIdsAndListsTheOthersInOrder) {
  PackTocCache cache(1000);
  const Hash256 pack = Id("pack-m");
  const auto toc = Toc("m", 6, 8);
  cache.Add(pack, toc);
  const std::vector<Hash256> ids = {Id("x0"), toc[4].id, toc[0].id, Id("x1"), toc[5].id, Id("x2")};
  BlobLocation untouched;
  untouched.offset = 777;
  std::vector<BlobLocation> locs(ids.size(), untouched);
  std::vector<size_t> missing;
  cache.FindMany(ids.data(), ids.size(), &locs, &missing);
  EXPECT_EQ((std::vector<size_t>{0, 3, 5}), missing);
  for (size_t i : missing) EXPECT_EQ(777u, locs[i].offset) << i;
  for (size_t i : {1u, 2u, 4u}) {
    auto one = cache.Find(ids[i]);
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->pack, locs[i].pack);
    EXPECT_EQ(one->offset, locs[i].offset);
    EXPECT_EQ(one->stored_len, locs[i].stored_len);
    EXPECT_EQ(one->raw_len, locs[i].raw_len);
    EXPECT_EQ(one->compression, locs[i].compression);
    EXPECT_EQ(one->type, locs[i].type);
  }
  EXPECT_EQ(toc[4].offset, locs[1].offset);
}

// As in the index, a blob stored twice keeps its first location.
TEST(PackTocCacheTest, ABlobInTwoPacksKeepsTheFirstLocation) {
  PackTocCache cache(1000);
  cache.Add(Id("p1"), Toc("x", 3, 8));
  cache.Add(Id("p2"), Toc("x", 3, 5000));
  auto loc = cache.Find(Id("x1"));
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->pack, Id("p1"));
  EXPECT_EQ(loc->offset, 108u);
}

// Full: the tables held make room for the new one (memory stays bounded
// whatever the size of the restore), and a dropped pack is loaded again
// when asked. A table larger than the limit is never held, but counts as
// handled so it is not re-read.
TEST(PackTocCacheTest, WhenFullTheTablesHeldMakeRoomForTheNextOne) {
  PackTocCache cache(15);
  cache.Add(Id("p1"), Toc("a", 10, 8));
  cache.Add(Id("p2"), Toc("b", 10, 8));
  EXPECT_FALSE(cache.Find(Id("a9")).has_value());
  EXPECT_FALSE(cache.Has(Id("p1"))) << "dropped: read again when its pack is named";
  EXPECT_TRUE(cache.Find(Id("b0")).has_value());
  EXPECT_TRUE(cache.Find(Id("b9")).has_value());
  cache.Add(Id("p1"), Toc("a", 10, 8));
  EXPECT_TRUE(cache.Find(Id("a9")).has_value());
  EXPECT_FALSE(cache.Find(Id("b0")).has_value());

  cache.Add(Id("huge"), Toc("h", 16, 8));
  EXPECT_TRUE(cache.Has(Id("huge")));
  EXPECT_FALSE(cache.Find(Id("h0")).has_value());
  EXPECT_TRUE(cache.Find(Id("a9")).has_value()) << "a table that never fits drops nothing";
}

// The table grows as tables are added, up to the limit, and every entry
// stays findable across its growth; ids not added are never found.
TEST(PackTocCacheTest, EveryEntryIsFoundAsTheTableGrowsToTheLimit) {
  PackTocCache cache(100000);
  for (int p = 0; p < 60; p++) cache.Add(Id("pack" + std::to_string(p)), Toc("g" + std::to_string(p) + "-", 1500, 8));
  for (int p = 0; p < 60; p++) {
    for (int i = 0; i < 1500; i += 7) {
      auto loc = cache.Find(Id("g" + std::to_string(p) + "-" + std::to_string(i)));
      ASSERT_TRUE(loc.has_value()) << p << " " << i;
      EXPECT_EQ(loc->pack, Id("pack" + std::to_string(p)));
      EXPECT_EQ(loc->offset, 8u + 100u * i);
    }
  }
  for (int i = 0; i < 1000; i++) EXPECT_FALSE(cache.Find(Id("absent" + std::to_string(i))).has_value());
}

// Ids that land on the same slot (here the table's last, so the search
// wraps to its start) are each found with their own location, and an id
// that lands there but was not added is not.
TEST(PackTocCacheTest, IdsLandingOnTheSameSlotAreEachFound) {
  PackTocCache cache(15);
  std::vector<PackEntry> toc = Toc("c", 12, 8);
  auto same_slot = [](Hash256 id) {
    for (size_t b = 0; b < 8; b++) id.bytes[b] = 0xff;  // Hash256Hasher's bytes
    return id;
  };
  for (PackEntry& e : toc) e.id = same_slot(e.id);
  cache.Add(Id("pack-c"), toc);
  for (const PackEntry& e : toc) {
    auto loc = cache.Find(e.id);
    ASSERT_TRUE(loc.has_value());
    EXPECT_EQ(loc->offset, e.offset);
  }
  EXPECT_FALSE(cache.Find(same_slot(Id("not added"))).has_value());
}

}  // namespace
}  // namespace qm
