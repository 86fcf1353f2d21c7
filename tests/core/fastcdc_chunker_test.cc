// FastCDC: bounds, determinism, streaming == whole-buffer, and the property
// dedup depends on: an insertion upstream moves only nearby boundaries.
#include "core/fastcdc_chunker.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tests/support/golden.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

std::vector<size_t> Cuts(const FastCdcChunker& c, std::string_view data) {
  std::vector<size_t> cuts;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t n = c.NextCut(AsBytes(data.substr(pos)), /*at_eof=*/true);
    EXPECT_GT(n, 0u);
    if (n == 0) break;
    pos += n;
    cuts.push_back(pos);
  }
  return cuts;
}

TEST(FastCdcChunkerTest, ChunksRespectMinAndMaxAndAverageIsNearTarget) {
  FastCdcChunker c(ChunkerParams{});
  std::string data = RandomBytes(16 << 20, 1);
  std::vector<size_t> cuts = Cuts(c, data);
  size_t prev = 0;
  for (size_t i = 0; i < cuts.size(); i++) {
    size_t len = cuts[i] - prev;
    EXPECT_LE(len, 256u * 1024);
    if (i + 1 < cuts.size()) {
      EXPECT_GE(len, 16u * 1024);
    }
    prev = cuts[i];
  }
  double avg = static_cast<double>(data.size()) / cuts.size();
  EXPECT_GT(avg, 40.0 * 1024);
  EXPECT_LT(avg, 100.0 * 1024);
}

TEST(FastCdcChunkerTest, UniformDataIsCutAtMaxSize) {
  FastCdcChunker c(ChunkerParams{});
  std::string zeros(1 << 20, '\0');
  std::vector<size_t> cuts = Cuts(c, zeros);
  ASSERT_EQ(4u, cuts.size());
  EXPECT_EQ(256u * 1024, cuts[0]);
}

TEST(FastCdcChunkerTest, NeedsMoreInputUntilACutIsCertain) {
  FastCdcChunker c(ChunkerParams{});
  EXPECT_EQ(0u, c.NextCut(ByteView(), true));
  std::string small = RandomBytes(1000, 2);
  EXPECT_EQ(0u, c.NextCut(AsBytes(small), false));
  EXPECT_EQ(1000u, c.NextCut(AsBytes(small), true));
  // Feeding the stream in pieces finds exactly the cuts of the whole buffer.
  std::string data = RandomBytes(3 << 20, 3);
  std::vector<size_t> whole = Cuts(c, data), streamed;
  size_t start = 0, avail = 0;
  while (start < data.size()) {
    bool eof = avail == data.size();
    size_t n = c.NextCut(AsBytes(std::string_view(data).substr(start, avail - start)), eof);
    if (n == 0) {
      avail = std::min(data.size(), avail + 10007);
      continue;
    }
    start += n;
    streamed.push_back(start);
  }
  EXPECT_EQ(whole, streamed);
}

TEST(FastCdcChunkerTest, InsertionUpstreamLeavesLaterBoundariesInPlace) {
  FastCdcChunker c(ChunkerParams{});
  std::string data = RandomBytes(8 << 20, 4);
  std::string edited = data;
  edited.insert(1 << 20, "inserted row: 42,BTCUSDT,buy,97000.5");
  const size_t shift = edited.size() - data.size();
  std::vector<size_t> a = Cuts(c, data), b = Cuts(c, edited);
  std::set<size_t> shifted;
  for (size_t cut : a)
    if (cut > (1u << 20)) shifted.insert(cut + shift);
  size_t kept = 0, after = 0;
  for (size_t cut : b) {
    if (cut <= (1u << 20)) continue;
    after++;
    kept += shifted.count(cut);
  }
  // All but the boundary or two around the edit survive.
  EXPECT_GE(kept + 2, after);
  EXPECT_GT(after, 50u);
  // Boundaries before the edit are untouched.
  std::vector<size_t> a_before, b_before;
  for (size_t cut : a)
    if (cut < (1u << 20) - 256 * 1024) a_before.push_back(cut);
  for (size_t cut : b)
    if (cut < (1u << 20) - 256 * 1024) b_before.push_back(cut);
  EXPECT_EQ(a_before, b_before);
}

TEST(FastCdcChunkerTest, CutPointsAndGearTableMatchTheGoldenFile) {
  // The cut points are part of the format: a change would stop new snapshots
  // from sharing chunks with old ones.
  FastCdcChunker c(ChunkerParams{});
  std::string out;
  for (size_t cut : Cuts(c, RandomBytes(4 << 20, 42))) out += std::to_string(cut) + "\n";
  char buf[32];
  for (int i = 0; i < 4; i++) {
    snprintf(buf, sizeof(buf), "gear[%d]=%016llx\n", i, static_cast<unsigned long long>(GearTable()[i]));
    out += buf;
  }
  ExpectMatchesGolden("fastcdc_cuts.txt", AsBytes(out));
}

}  // namespace
}  // namespace qm
