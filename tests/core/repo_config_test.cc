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
  ExpectMatchesGolden("config_v1.txt", AsBytes(text));
  auto dec = DecodeRepoConfig(AsBytes(text));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(Sample(), *dec);
}

TEST(RepoConfigTest, UnknownKeysNewerVersionsAndBadValuesAreRefused) {
  std::string text = EncodeRepoConfig(Sample());
  EXPECT_TRUE(DecodeRepoConfig(AsBytes(text + "encryption = aes\n")).status().IsCorruption());
  std::string v2 = text;
  v2.replace(0, 21, "qm-snap repository v2");
  auto r = DecodeRepoConfig(AsBytes(v2));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string::npos, r.status().message().find("unsupported repository version"));
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
