// PageChunker: cuts only between pages, page 1 alone, local effect of edits.
#include "core/page_chunker.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "tests/support/test_util.h"

namespace qm {
namespace {

constexpr uint32_t kPage = 4096;

// Chunk end positions (in pages) for a database of `pages`.
std::vector<uint64_t> Cuts(const PageChunker& c, const std::string& db) {
  std::vector<uint64_t> cuts;
  uint32_t in_chunk = 0;
  const uint64_t n = db.size() / kPage;
  for (uint64_t p = 1; p <= n; p++) {
    in_chunk++;
    if (c.CutAfter(AsBytes(std::string_view(db).substr((p - 1) * kPage, kPage)), in_chunk, p) || p == n) {
      cuts.push_back(p);
      in_chunk = 0;
    }
  }
  return cuts;
}

TEST(PageChunkerTest, PageOneIsAloneAndChunksStayWithinBounds) {
  PageChunker c(PageChunkerParams{}, kPage);
  std::string db = RandomBytes(2000 * kPage, 1);
  auto cuts = Cuts(c, db);
  ASSERT_FALSE(cuts.empty());
  EXPECT_EQ(1u, cuts[0]);
  uint64_t prev = 1;
  for (size_t i = 1; i < cuts.size(); i++) {
    EXPECT_LE(cuts[i] - prev, c.max_pages());
    prev = cuts[i];
  }
  double avg = 1999.0 / (cuts.size() - 1);
  EXPECT_GT(avg, 1.2);
  EXPECT_LT(avg, 4.0);
}

TEST(PageChunkerTest, ChangingOnePageChangesAtMostTwoChunks) {
  PageChunker c(PageChunkerParams{}, kPage);
  std::string db = RandomBytes(1000 * kPage, 2);
  std::string edited = db;
  edited.replace(500 * kPage + 100, 8, "newvalue");
  auto a = Cuts(c, db), b = Cuts(c, edited);
  std::set<uint64_t> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  size_t differ = 0;
  for (uint64_t x : sb) differ += sa.count(x) ? 0 : 1;
  EXPECT_LE(differ, 2u);
}

TEST(PageChunkerTest, InsertedPagesResynchroniseWithinAFewChunks) {
  PageChunker c(PageChunkerParams{}, kPage);
  std::string db = RandomBytes(1000 * kPage, 3);
  std::string grown = db;
  grown.insert(300 * kPage, RandomBytes(7 * kPage, 4));  // as a VACUUM or a new run of pages moves the rest
  auto a = Cuts(c, db), b = Cuts(c, grown);
  std::set<uint64_t> shifted;
  for (uint64_t x : a)
    if (x > 300) shifted.insert(x + 7);
  size_t after = 0, kept = 0;
  for (uint64_t x : b) {
    if (x <= 320) continue;
    after++;
    kept += shifted.count(x);
  }
  EXPECT_EQ(after, kept) << "all boundaries from 13 pages past the insertion on are the old ones, moved";
}

TEST(PageChunkerTest, LargePagesAreOnePageChunks) {
  PageChunker c(PageChunkerParams{}, 65536);
  EXPECT_EQ(1u, c.max_pages());
  EXPECT_TRUE(c.CutAfter(AsBytes(RandomBytes(65536, 5)), 1, 7));
}

TEST(PageChunkerTest, DatabaseChunkingIsOnePagePerChunkFrom4KiBAndFixed4KiBGroupsBelow) {
  for (uint32_t ps : {4096u, 8192u, 65536u}) {
    PageChunker c(kDatabaseChunking, ps);
    for (uint64_t p = 2; p < 200; p++)
      EXPECT_TRUE(c.CutAfter(AsBytes(RandomBytes(ps, p)), 1, p)) << ps << " page " << p;
  }
  for (uint32_t ps : {512u, 1024u, 2048u}) {
    PageChunker c(kDatabaseChunking, ps);
    const uint32_t group = 4096 / ps;
    for (uint64_t p = 2; p < 200; p++) {
      const uint32_t in_chunk = static_cast<uint32_t>((p - 2) % group) + 1;
      EXPECT_EQ(in_chunk == group, c.CutAfter(AsBytes(RandomBytes(ps, p)), in_chunk, p)) << ps << " page " << p;
    }
  }
}

}  // namespace
}  // namespace qm
