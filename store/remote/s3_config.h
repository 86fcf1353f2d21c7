// S3Config: where and as whom the S3 client talks, and how hard it tries.
// S3ConfigFromEnvironment() fills it the way the AWS CLI and SDKs do.
//
// Thread-safety: plain values and functions; S3ConfigFromEnvironment() only
// reads through the EnvironmentSource it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.h"

namespace qm {

struct S3Config {
  // "https://s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:4568", no path.
  // Empty: https://s3.REGION.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string access_key, secret_key, session_token;
  // Path-style addressing (https://host/BUCKET/KEY: MinIO, s3rver); when false,
  // virtual-hosted (https://BUCKET.host/KEY), except for bucket names with a
  // '.', which would not match the TLS certificate and always go path-style.
  bool path_style = true;
  // The endpoint is the bucket's own host name (a custom domain bound to the
  // bucket, as Aliyun OSS requires of new mainland-China accounts since
  // 2025-03-20): https://ENDPOINT/KEY, no bucket in host or path.
  bool endpoint_is_bucket = false;
  uint64_t part_size = 16 << 20;            // multipart part size (at least 5 MiB for real S3)
  uint64_t multipart_threshold = 64 << 20;  // files of this size or larger go multipart
  // Attempts per request (so retries + 1) on HTTP 5xx, 429, timeouts and
  // connection errors, with exponential backoff base_delay_ms * 2^(n-1)
  // (capped at 20 s) and up to 50% random jitter.
  int max_attempts = 5;
  int retry_base_delay_ms = 500;
  // A request fails when it transfers less than 1 byte/s for this long (a
  // stall limit, not a total-time limit, so large parts are never cut off).
  long timeout_seconds = 300;
  long connect_timeout_seconds = 30;
};

// How S3ConfigFromEnvironment() sees the world; tests substitute fakes.
struct EnvironmentSource {
  // The value of an environment variable; nullopt when unset.
  std::function<std::optional<std::string>(const std::string& name)> get_env;
  // A whole file; a NotFound status when it does not exist (then it is
  // skipped), any other error is reported.
  std::function<Result<std::string>(const std::string& path)> read_file;
};

// True for endpoints of services that address buckets by host name:
// *.amazonaws.com(.cn) and Aliyun OSS (*.aliyuncs.com, which rejects
// path-style requests).
bool IsVirtualHostedService(const std::string& endpoint);

// The real process environment (getenv) and file system.
EnvironmentSource ProcessEnvironment();

// Builds an S3Config from the standard AWS variables and files.
//
// Credentials, first complete source wins (never mixing sources):
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. the profile (AWS_PROFILE, else "default") in the shared credentials file
//      (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials);
//   3. the same profile in the config file (AWS_CONFIG_FILE, else ~/.aws/config,
//      section "[profile NAME]" or "[default]").
// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's "region" in the config
// file, else us-east-1.
// Endpoint: `endpoint_override`, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the
// profile's "endpoint_url" in the config file, else AWS's regional endpoint.
// Addressing: QM_SNAP_S3_ADDRESSING=path|virtual|cname|auto; auto (the default) is
// virtual-hosted for AWS and Aliyun OSS endpoints (IsVirtualHostedService),
// path-style for any other (MinIO, s3rver).
//
// Errors: InvalidArgument naming the variables to set when no credentials are
// found, or when an endpoint is not an http:// or https:// URL; an unreadable
// (not missing) credentials or config file is reported with its path.
Result<S3Config> S3ConfigFromEnvironment(std::optional<std::string> endpoint_override,
                                         const EnvironmentSource& source = ProcessEnvironment());

}  // namespace qm
