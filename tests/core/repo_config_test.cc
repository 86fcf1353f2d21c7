// Repository config text: golden, round trip, refusal of unknown or bad keys.
#include "core/repo_config.h"

#include <gtest/gtest.h>

#include "tests/support/golden.h"

namespace qm {
namespace {

RepoConfig Sample() {
  RepoConfig c;
  c.repo_id = Sha256(AsBytes("repo"));
  return c;
}

TEST(RepoConfigTest, RoundTripsAndMatchesGolden) {
  std::string text = EncodeRepoConfig(Sample());
  ExpectMatchesGolden("config_v2.txt", AsBytes(text));
  auto dec = DecodeRepoConfig(AsBytes(text));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(Sample(), *dec);
  EXPECT_EQ(2u, dec->version);
}

// Repositories written before pack format v2 keep opening; their version
// is kept so the first writer knows to raise it.
TEST(RepoConfigTest, VersionOneStillDecodesAsVersionOne) {
  const std::string golden = ReadGolden("config_v1.txt");
  auto dec = DecodeRepoConfig(AsBytes(golden));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(1u, dec->version);
  RepoConfig v1 = Sample();
  v1.version = 1;
  EXPECT_EQ(v1, *dec);
  EXPECT_EQ(golden, EncodeRepoConfig(v1));
}

TEST(RepoConfigTest, UnknownKeysNewerVersionsAndBadValuesAreRefused) {
  std::string text = EncodeRepoConfig(Sample());
  EXPECT_TRUE(DecodeRepoConfig(AsBytes(text + "encryption = aes\n")).status().IsCorruption());
  for (const char* first : {"qm-snap repository v3", "qm-snap repository v0", "qm-snap repository v",
                            "qm-snap repository v2x", "qm-snap repository v-1"}) {
    std::string t = text;
    t.replace(0, text.find('\n'), first);
    auto r = DecodeRepoConfig(AsBytes(t));
    ASSERT_FALSE(r.ok()) << first;
    EXPECT_TRUE(r.status().IsCorruption()) << first;
    EXPECT_NE(std::string::npos, r.status().message().find("unsupported repository version")) << r.status().message();
    EXPECT_NE(std::string::npos, r.status().message().find("reads v1 to v2")) << r.status().message();
    EXPECT_EQ(std::string(first) == "qm-snap repository v3",
              r.status().message().find("written by a newer qm-snap") != std::string::npos)
        << r.status().message();
  }
  for (const char* from : {"zstd_level = 3", "chunker_avg = 65536", "pack_target_size = 16777216"}) {
    for (const char* to : {"zstd_level = 99", "chunker_avg = 65535", "pack_target_size = 12"}) {
      std::string t = text;
      size_t at = t.find(from);
      ASSERT_NE(std::string::npos, at);
      if (std::string(from).substr(0, 5) != std::string(to).substr(0, 5)) continue;
      t.replace(at, std::string(from).size(), to);
      EXPECT_TRUE(DecodeRepoConfig(AsBytes(t)).status().IsCorruption()) << to;
    }
  }
  std::string missing = text.substr(0, text.find("zstd_level"));
  EXPECT_TRUE(DecodeRepoConfig(AsBytes(missing)).status().IsCorruption());
  EXPECT_TRUE(DecodeRepoConfig(AsBytes("hello\n")).status().IsCorruption());
}

}  // namespace
}  // namespace qm
