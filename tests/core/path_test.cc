// Path splitting (with and without empty components) and the glob rule
// shared by backup --exclude, restore --include/--exclude and find.
#include "core/path.h"

#include <gtest/gtest.h>

namespace qm {
namespace {

using V = std::vector<std::string>;

TEST(PathTest, SplitDropsEmptyComponentsUnlessAskedToKeepThem) {
  EXPECT_EQ(SplitPath("data//quantmesh.db/"), (V{"data", "quantmesh.db"}));
  EXPECT_EQ(SplitPath("/"), V{});
  EXPECT_EQ(SplitPath(""), V{});
  EXPECT_EQ(SplitPath("a//b/", true), (V{"a", "", "b", ""}));
  EXPECT_EQ(SplitPath("/etc", true), (V{"", "etc"}));
}

TEST(PathTest, GlobMatchesThePathOrTheBaseName) {
  EXPECT_TRUE(GlobMatchesPathOrName("*.db", "data/quantmesh.db"));
  EXPECT_TRUE(GlobMatchesPathOrName("config.yaml", "config.yaml"));
  EXPECT_TRUE(GlobMatchesPathOrName("logs/*", "logs/a/b.log"));
  EXPECT_TRUE(GlobMatchesPathOrName("quantmesh.db", "data/quantmesh.db"));
  EXPECT_FALSE(GlobMatchesPathOrName("data", "data/quantmesh.db"));
  EXPECT_FALSE(GlobMatchesPathOrName("*.yaml", "config.yaml.bak"));
}

}  // namespace
}  // namespace qm
