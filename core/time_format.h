// Snapshot times: parsing what operators type and formatting what they read.
// Times without a zone are local time (as `date` prints them, and as the
// guide's YYYYMMDD_HHMMSS archive names are made).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace qm {

// Accepts "YYYYMMDD_HHMMSS", "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]",
// "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DD". Returns unix seconds.
Result<int64_t> ParseTime(std::string_view text);

// "90s", "30m", "24h", "7d", "1w", or "0": seconds.
Result<int64_t> ParseDuration(std::string_view text);
// ParseTime, or a time relative to `now_unix`: "90s", "30m", "2h", "3d",
// "1w" (that long before now).
Result<int64_t> ParseTimeOrAgo(std::string_view text, int64_t now_unix);
// "1h 5m", "3d 2h", "42s": a duration for operators (seconds, non-negative).
std::string FormatDuration(int64_t seconds);
// "2025-01-29T14:30:22+08:00" in local time.
std::string FormatTimeIso(int64_t unix_seconds);
// "20250129_143022" in local time (the guide's archive names).
std::string FormatTimeCompact(int64_t unix_seconds);
// The same in UTC: export archives are named so, and so are the same bytes
// whatever the exporting machine's time zone.
std::string FormatTimeCompactUtc(int64_t unix_seconds);
// "2025-01-29T06:30:22Z"
std::string FormatTimeIsoUtc(int64_t unix_seconds);

}  // namespace qm
