// s3://BUCKET/PREFIX locations, and the URI encoding S3's SigV4 signing
// expects in request paths and query strings.
//
// Pure functions on strings: no I/O, safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace qm {

struct S3Location {
  std::string bucket;
  std::string prefix;  // everything after "s3://BUCKET/"; may be empty
};

// Parses "s3://BUCKET" or "s3://BUCKET/PREFIX". The input is treated as
// hostile: InvalidArgument, naming the problem, for a missing or other scheme,
// a bucket name that S3 does not allow (3-63 characters of a-z, 0-9, '.', '-',
// starting and ending with a letter or digit, no "..", not an IPv4 address),
// control characters anywhere, or a prefix longer than S3's 1024-byte key limit.
Result<S3Location> ParseS3Url(std::string_view url);

// AWS URI encoding: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX
// (uppercase hex); '/' is kept when `keep_slash` (object key paths).
std::string S3UriEncode(std::string_view s, bool keep_slash);

// The canonical SigV4 query string: each name and value URI-encoded, sorted
// by name then value, joined as "a=1&b=&c=3" (a value-less parameter is
// written "name=", as the canonical form requires). Request URLs are built
// with this string because libcurl 7.88 (Debian 12) signs the query exactly as
// given: "?b=1&a=2" or "?uploads" produce signatures S3 rejects.
std::string CanonicalQueryString(std::vector<std::pair<std::string, std::string>> params);

enum class S3Addressing {
  kPath,              // https://host/BUCKET/KEY
  kVirtual,           // https://BUCKET.host/KEY (a bucket with a '.' goes path-style:
                      // it would not match the service's TLS certificate)
  kEndpointIsBucket,  // https://host/KEY (a custom domain bound to the bucket)
};

// The URL of one request: `endpoint` ("https://host[:port]"), the bucket
// placed as `addressing` says, the URI-encoded key, and the canonical query.
std::string S3RequestUrl(const std::string& endpoint, S3Addressing addressing, const std::string& bucket,
                         const std::string& key, std::vector<std::pair<std::string, std::string>> query);

}  // namespace qm
