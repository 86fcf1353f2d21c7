#include "store/ops/uploader.h"

#include <chrono>

#include "store/remote/s3_client.h"

namespace qm {

Status CheckUpload(const UploadOptions& options) {
  QM_RETURN_IF_ERROR(ParseS3Url(options.url).status());
  return S3ConfigFromEnvironment(options.endpoint).status();
}

Result<UploadResult> UploadExport(const ExportResult& exported, const UploadOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  QM_ASSIGN_OR_RETURN(S3Location where, ParseS3Url(options.url));
  QM_ASSIGN_OR_RETURN(S3Config config, S3ConfigFromEnvironment(options.endpoint));
  S3Client client(config);
  auto key_of = [&](const std::string& path) {
    const std::string base = path.substr(path.rfind('/') + 1);
    if (where.prefix.empty()) return base;
    return where.prefix.back() == '/' ? where.prefix + base : where.prefix + "/" + base;
  };
  UploadResult r;
  const std::string archive_key = key_of(exported.archive_path);
  const std::string checksum_key = key_of(exported.checksum_path);
  r.archive_url = "s3://" + where.bucket + "/" + archive_key;
  r.checksum_url = "s3://" + where.bucket + "/" + checksum_key;
  QM_RETURN_IF_ERROR(client.PutFile(exported.archive_path, where.bucket, archive_key)
                         .WithContext("upload of the archive to " + r.archive_url + " failed"));
  QM_RETURN_IF_ERROR(client.PutFile(exported.checksum_path, where.bucket, checksum_key)
                         .WithContext("upload of the checksum file to " + r.checksum_url + " failed"));
  r.bytes = exported.archive_bytes;
  r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace qm
