// Time parsing: every accepted form, zones, and refusal of nonsense.
#include "core/time_format.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace qm {
namespace {

class TimeFormatTest : public ::testing::Test {
 protected:
  // Fixed zone so local-time expectations are exact (Asia/Shanghai, UTC+8,
  // no DST: where QuantMesh's operators are).
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    if (tz) old_tz_ = tz;
    had_tz_ = tz != nullptr;
    setenv("TZ", "CST-8", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", old_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  std::string old_tz_;
  bool had_tz_ = false;
};

TEST_F(TimeFormatTest, EveryAcceptedFormParsesToTheSameInstant) {
  const int64_t expect = 1738132222;  // 2025-01-29T14:30:22+08:00
  for (const char* s : {"20250129_143022", "2025-01-29T14:30:22", "2025-01-29 14:30:22", "2025-01-29T06:30:22Z",
                        "2025-01-29T14:30:22+08:00", "2025-01-29T14:30:22.999", "2025-01-29T01:30:22-05:00"}) {
    auto r = ParseTime(s);
    ASSERT_TRUE(r.ok()) << s << ": " << r.status().ToString();
    EXPECT_EQ(expect, *r) << s;
  }
  EXPECT_EQ(1738132200, *ParseTime("2025-01-29 14:30"));
  EXPECT_EQ(1738080000, *ParseTime("2025-01-29"));
}

TEST_F(TimeFormatTest, FormattingUsesLocalTimeAndRoundTrips) {
  EXPECT_EQ("2025-01-29T14:30:22+08:00", FormatTimeIso(1738132222));
  EXPECT_EQ("20250129_143022", FormatTimeCompact(1738132222));
  EXPECT_EQ(1738132222, *ParseTime(FormatTimeIso(1738132222)));
  EXPECT_EQ(1738132222, *ParseTime(FormatTimeCompact(1738132222)));
}

TEST_F(TimeFormatTest, NonsenseIsInvalidArgument) {
  for (const char* s : {"", "yesterday", "2025-13-01", "2025-02-30", "2023-02-29", "2025-01-29T25:00", "20250129143022",
                        "2025-01-29T14:30:22+8", "2025-01-29T14:30:22Zjunk", "1969-12-31"}) {
    auto r = ParseTime(s);
    EXPECT_FALSE(r.ok()) << s;
    if (!r.ok()) {
      EXPECT_EQ(Code::kInvalidArgument, r.status().code()) << s;
    }
  }
}

TEST_F(TimeFormatTest, AgesCountBackFromNowAndDatesStillParse) {
  const int64_t now = 1738161022;  // 2025-01-29T14:30:22Z
  EXPECT_EQ(*ParseTimeOrAgo("90s", now), now - 90);
  EXPECT_EQ(*ParseTimeOrAgo("30m", now), now - 1800);
  EXPECT_EQ(*ParseTimeOrAgo("2h", now), now - 7200);
  EXPECT_EQ(*ParseTimeOrAgo("3d", now), now - 3 * 86400);
  EXPECT_EQ(*ParseTimeOrAgo("1w", now), now - 7 * 86400);
  EXPECT_EQ(*ParseTimeOrAgo("2025-01-29T14:00:00Z", now), now - 1822);
  for (const char* bad : {"h", "2x", "-2h", "2 h", "yesterday"}) {
    auto r = ParseTimeOrAgo(bad, now);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("or an age such as 30m, 2h, 3d"), std::string::npos) << bad;
  }
}

TEST_F(TimeFormatTest, DurationsParseFromANumberAndAUnit) {
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration("90s"), 90);
  EXPECT_EQ(*ParseDuration("30m"), 1800);
  EXPECT_EQ(*ParseDuration("24h"), 86400);
  EXPECT_EQ(*ParseDuration("7d"), 7 * 86400);
  EXPECT_EQ(*ParseDuration("1w"), 7 * 86400);
  for (const char* bad : {"", "h", "24", "2x", "-2h", "2 h", "1.5h", "123456789h", "daily"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("cannot parse duration"), std::string::npos) << bad;
  }
}

TEST_F(TimeFormatTest, DurationsReadLikeAnOperatorWouldSayThem) {
  EXPECT_EQ(FormatDuration(42), "42s");
  EXPECT_EQ(FormatDuration(59 * 60), "59m 0s");
  EXPECT_EQ(FormatDuration(3600 + 300), "1h 5m");
  EXPECT_EQ(FormatDuration(3 * 86400 + 7200 + 5), "3d 2h");
  EXPECT_EQ(FormatDuration(-5), "0s");
}

}  // namespace
}  // namespace qm
