// Upload of an exported archive and its checksum file to S3-compatible
// storage (AWS S3, Aliyun OSS, MinIO), as the guide's weekly offsite step.
//
// The archive goes first and is verified by size (S3Client::PutFile); the
// checksum file only after it, so a NAME.sha256 in the bucket always has its
// archive beside it. Nothing local is removed, whatever happens.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/result.h"
#include "store/ops/exporter.h"

namespace qm {

struct UploadOptions {
  std::string url;                      // s3://BUCKET[/PREFIX]
  std::optional<std::string> endpoint;  // --endpoint; else AWS_ENDPOINT_URL etc.
};

struct UploadResult {
  std::string archive_url;   // s3://BUCKET/PREFIX/NAME.tar.gz
  std::string checksum_url;  // s3://BUCKET/PREFIX/NAME.sha256
  uint64_t bytes = 0;
  double duration_s = 0;
};

// Checks the destination URL and that credentials are configured, so a
// misconfigured upload fails before a long export rather than after it.
Status CheckUpload(const UploadOptions& options);

// Credentials and region come from the standard AWS variables and files
// (store/remote/s3_config.h). Errors say which file failed to upload and
// what the server answered.
Result<UploadResult> UploadExport(const ExportResult& exported, const UploadOptions& options);

}  // namespace qm
