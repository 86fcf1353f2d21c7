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

}  // namespace
}  // namespace qm
