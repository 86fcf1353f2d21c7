#include "core/time_format.h"

#include <cctype>
#include <ctime>
#include <string>

namespace qm {

namespace {

// Reads exactly `n` digits at *pos.
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = s[*pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

Status Bad(std::string_view text) {
  return Status::InvalidArgument("cannot parse time \"" + std::string(text) +
                                 "\" (use YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD HH:MM, YYYY-MM-DD or YYYYMMDD_HHMMSS)");
}

std::string Format(int64_t unix_seconds, const char* fmt, bool utc = false) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), fmt, &tm);
  return std::string(buf, n);
}

}  // namespace

Result<int64_t> ParseTime(std::string_view text) {
  struct tm tm = {};
  int Y = 0, M = 0, D = 0, h = 0, m = 0, sec = 0;
  size_t p = 0;
  bool utc = false;
  int offset_s = 0;
  if (text.size() == 15 && text[8] == '_') {
    if (!Digits(text, &p, 4, &Y) || !Digits(text, &p, 2, &M) || !Digits(text, &p, 2, &D) || !Expect(text, &p, '_') ||
        !Digits(text, &p, 2, &h) || !Digits(text, &p, 2, &m) || !Digits(text, &p, 2, &sec))
      return Bad(text);
  } else {
    if (!Digits(text, &p, 4, &Y) || !Expect(text, &p, '-') || !Digits(text, &p, 2, &M) || !Expect(text, &p, '-') ||
        !Digits(text, &p, 2, &D))
      return Bad(text);
    if (p < text.size()) {
      if (text[p] != 'T' && text[p] != ' ') return Bad(text);
      ++p;
      if (!Digits(text, &p, 2, &h) || !Expect(text, &p, ':') || !Digits(text, &p, 2, &m)) return Bad(text);
      if (p < text.size() && text[p] == ':') {
        ++p;
        if (!Digits(text, &p, 2, &sec)) return Bad(text);
        if (p < text.size() && text[p] == '.') {  // fractional seconds are accepted and dropped
          ++p;
          size_t start = p;
          while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p]))) ++p;
          if (p == start) return Bad(text);
        }
      }
      if (p < text.size()) {
        if (text[p] == 'Z' && p + 1 == text.size()) {
          utc = true;
          ++p;
        } else if (text[p] == '+' || text[p] == '-') {
          int sign = text[p] == '-' ? -1 : 1, oh, om;
          ++p;
          if (!Digits(text, &p, 2, &oh) || !Expect(text, &p, ':') || !Digits(text, &p, 2, &om) || oh > 23 || om > 59)
            return Bad(text);
          utc = true;
          offset_s = sign * (oh * 3600 + om * 60);
        } else {
          return Bad(text);
        }
      }
    }
  }
  if (p != text.size()) return Bad(text);
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > kDays[M - 1] || h > 23 || m > 59 || sec > 60) return Bad(text);
  bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (M == 2 && D == 29 && !leap) return Bad(text);
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  if (utc) return static_cast<int64_t>(timegm(&tm)) - offset_s;
  tm.tm_isdst = -1;  // let the zone rules decide, as `date` does
  time_t t = mktime(&tm);
  if (t == static_cast<time_t>(-1)) return Bad(text);
  return static_cast<int64_t>(t);
}

Result<int64_t> ParseDuration(std::string_view text) {
  const Status bad = Status::InvalidArgument("cannot parse duration \"" + std::string(text) +
                                             "\" (use a number and a unit: 90s, 30m, 24h, 7d, 1w; or 0)");
  if (text == "0") return int64_t{0};
  if (text.size() < 2 || text.size() > 8) return bad;
  const char unit = text.back();
  const std::string_view digits = text.substr(0, text.size() - 1);
  const int64_t per = unit == 's'   ? 1
                      : unit == 'm' ? 60
                      : unit == 'h' ? 3600
                      : unit == 'd' ? 86400
                      : unit == 'w' ? 604800
                                    : 0;
  if (per == 0) return bad;
  for (char c : digits)
    if (c < '0' || c > '9') return bad;
  return std::stoll(std::string(digits)) * per;  // at most 7 digits: no overflow
}

Result<int64_t> ParseTimeOrAgo(std::string_view text, int64_t now_unix) {
  if (text != "0") {
    auto ago = ParseDuration(text);
    if (ago.ok()) return now_unix - *ago;
  }
  auto t = ParseTime(text);
  if (!t.ok())
    return Status::InvalidArgument("cannot parse time \"" + std::string(text) +
                                   "\" (use YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD HH:MM, YYYYMMDD_HHMMSS, or an age such as "
                                   "30m, 2h, 3d)");
  return t;
}

std::string FormatDuration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60;
  if (d > 0) return std::to_string(d) + "d " + std::to_string(h) + "h";
  if (h > 0) return std::to_string(h) + "h " + std::to_string(m) + "m";
  if (m > 0) return std::to_string(m) + "m " + std::to_string(s) + "s";
  return std::to_string(s) + "s";
}

std::string FormatTimeIso(int64_t unix_seconds) {
  std::string s = Format(unix_seconds, "%Y-%m-%dT%H:%M:%S%z");
  // strftime's %z is "+0800"; ISO 8601 extended form is "+08:00".
  if (s.size() >= 5) s.insert(s.size() - 2, ":");
  return s;
}

std::string FormatTimeCompact(int64_t unix_seconds) {
  return Format(unix_seconds, "%Y%m%d_%H%M%S");
}

std::string FormatTimeCompactUtc(int64_t unix_seconds) {
  return Format(unix_seconds, "%Y%m%d_%H%M%S", true);
}

std::string FormatTimeIsoUtc(int64_t unix_seconds) {
  return Format(unix_seconds, "%Y-%m-%dT%H:%M:%SZ", true);
}

}  // namespace qm
