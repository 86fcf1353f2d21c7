// S3Client: uploads local files to S3 (or an S3-compatible server) over
// HTTP(S) with libcurl, signed with AWS Signature Version 4.
//
// Thread-safety: an S3Client must be used by one thread at a time (it keeps
// one libcurl handle, and with it a warm connection, between requests).
// Separate S3Client objects may be used concurrently.
//
// Failure: every method reports errors as a Status and never prints or exits.
// Messages name the step that failed and what the server answered, e.g.
// "upload s3://b/k: PUT failed: HTTP 403 AccessDenied: Access Denied".
// HTTP 403 is PermissionDenied, 404 NotFound, a local read problem IOError,
// a size mismatch after upload Corruption, everything else IOError.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/status.h"
#include "store/remote/s3_config.h"
#include "store/remote/s3_url.h"
#include "store/remote/s3_xml.h"

namespace qm {

class S3Client {
 public:
  // `config` is taken as is (see S3ConfigFromEnvironment()); an empty endpoint
  // means https://s3.REGION.amazonaws.com. part_size is raised when a file
  // would need more than S3's 10,000 parts.
  explicit S3Client(S3Config config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Uploads the local file `local_path` to bucket/key, replacing any object
  // there. Below config.multipart_threshold: one PUT. Otherwise multipart:
  // CreateMultipartUpload, UploadPart for each part_size piece (each part
  // retried on its own), CompleteMultipartUpload; on any failure after the
  // upload was created it is aborted (AbortMultipartUpload) so no parts are
  // left billed, and the error says if that abort failed too.
  // Every request body is signed with its SHA-256, so a file that changes
  // while it is read is refused by the server rather than stored torn.
  // Finally HEADs the object and fails (Corruption) unless its size equals the
  // file's size at the start of the upload.
  // `progress` (optional) is called from this thread with bytes sent so far
  // and the file size; it may step back when a request is retried.
  Status PutFile(const std::string& local_path, const std::string& bucket, const std::string& key,
                 const std::function<void(uint64_t sent, uint64_t total)>& progress = {});

  // The size of object bucket/key. NotFound when the object (or the bucket)
  // does not exist.
  Result<uint64_t> HeadSize(const std::string& bucket, const std::string& key);

  const S3Config& config() const { return config_; }

 private:
  struct Impl;
  S3Config config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qm
