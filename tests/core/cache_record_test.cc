// Cache file names: they are on disk, so a change would orphan every
// existing cache file.
#include "core/cache_record.h"

#include <gtest/gtest.h>

#include <string>

namespace qm {
namespace {

TEST(CacheKeyTest, IsTheSha256OfThePartsJoinedByNul) {
  using namespace std::string_literals;
  EXPECT_EQ(Sha256(AsBytes("snapshot-cache")), CacheKey({"snapshot-cache"}));
  EXPECT_EQ(Sha256(AsBytes("page-fingerprints\0/src\0data/quantmesh.db"s)),
            CacheKey({"page-fingerprints", "/src", "data/quantmesh.db"}));
  EXPECT_EQ(Sha256(AsBytes("parent-trees\0\0host\0full"s)), CacheKey({"parent-trees", "", "host", "full"}));
  EXPECT_NE(CacheKey({"a", "bc"}), CacheKey({"ab", "c"}));
}

}  // namespace
}  // namespace qm
