#include "store/remote/s3_url.h"

#include <algorithm>

namespace qm {
namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool LooksLikeIpv4(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

// Empty when `name` is a valid bucket name, else why not.
std::string BucketNameProblem(std::string_view name) {
  if (name.empty()) return "bucket name is empty";
  if (name.size() < 3 || name.size() > 63) return "bucket name must be 3 to 63 characters long";
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '.' && c != '-') {
      return "bucket name may contain only lowercase letters, digits, '.' and '-'";
    }
  }
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) {
    return "bucket name must start and end with a lowercase letter or digit";
  }
  if (name.find("..") != std::string_view::npos) return "bucket name must not contain \"..\"";
  if (LooksLikeIpv4(name)) return "bucket name must not look like an IP address";
  return {};
}

// A printable rendering of hostile input for error messages (at most 80 bytes,
// control bytes as \xNN).
std::string Quote(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 80) out += "...";
  out += "\"";
  return out;
}

}  // namespace

Result<S3Location> ParseS3Url(std::string_view url) {
  const std::string what = "S3 URL " + Quote(url);
  constexpr std::string_view kScheme = "s3://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument(what, "must start with s3:// (s3://BUCKET/PREFIX)");
  }
  for (char c : url) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return Status::InvalidArgument(what, "contains a control character");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (std::string problem = BucketNameProblem(bucket); !problem.empty()) {
    return Status::InvalidArgument(what, problem);
  }
  if (prefix.size() > 1024) return Status::InvalidArgument(what, "prefix is longer than S3's 1024-byte key limit");
  return S3Location{std::string(bucket), std::string(prefix)};
}

std::string S3UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string CanonicalQueryString(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [name, value] : params) {
    name = S3UriEncode(name, false);
    value = S3UriEncode(value, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string S3RequestUrl(const std::string& endpoint, S3Addressing addressing, const std::string& bucket,
                         const std::string& key, std::vector<std::pair<std::string, std::string>> query) {
  std::string url;
  const size_t host = endpoint.find("://") == std::string::npos ? 0 : endpoint.find("://") + 3;
  if (addressing == S3Addressing::kEndpointIsBucket) {
    url = endpoint + "/";
  } else if (addressing == S3Addressing::kVirtual && bucket.find('.') == std::string::npos) {
    url = endpoint.substr(0, host) + bucket + "." + endpoint.substr(host) + "/";
  } else {
    url = endpoint + "/" + bucket + "/";
  }
  url += S3UriEncode(key, true);
  if (!query.empty()) url += "?" + CanonicalQueryString(std::move(query));
  return url;
}

}  // namespace qm
