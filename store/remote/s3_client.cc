#include "store/remote/s3_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "store/remote/curl_binding.h"

namespace qm {
namespace {

constexpr uint64_t kMaxParts = 10000;
constexpr size_t kMaxResponseBody = 1 << 20;
constexpr size_t kReadBlock = 1 << 20;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// An open local file, closed on destruction.
class LocalFile {
 public:
  ~LocalFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Error("open");
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Error("stat");
    if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path, "not a regular file");
    size_ = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }
  // Reads exactly `n` bytes at `offset`; a short read means the file shrank.
  Status ReadAt(uint64_t offset, size_t n, uint8_t* out) const {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Error("read");
      if (r == 0) return Status::IOError(path_, "file shrank while it was being uploaded");
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  Status Error(const char* op) const {
    int err = errno;
    std::string what = std::string(op) + " " + path_;
    if (err == ENOENT) return Status::NotFound(what, std::strerror(err));
    if (err == EACCES || err == EPERM) return Status::PermissionDenied(what, std::strerror(err));
    return Status::IOError(what, std::strerror(err));
  }
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

struct HttpRequest {
  std::string method;  // "PUT", "POST", "HEAD", "DELETE"
  std::string bucket, key;
  std::vector<std::pair<std::string, std::string>> query;
  // The body: `memory_body`, or `length` bytes of `file` from `offset`.
  std::string memory_body;
  const LocalFile* file = nullptr;
  uint64_t offset = 0, length = 0;
  std::string content_type;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string etag;
  uint64_t content_length = 0;
};

// What one attempt came to: a transport error, or an HTTP response.
struct Attempt {
  CURLcode curl_code = CURLE_OK;
  std::string curl_detail;
  Status local_error;  // reading the local file failed (not retried)
  HttpResponse response;
};

bool RetryableCurlCode(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SEND_FAIL_REWIND: return true;
    default: return false;
  }
}

// Codes S3 sends with 200 or 400 that mean "try again".
bool RetryableS3Code(std::string_view code) {
  return code == "InternalError" || code == "SlowDown" || code == "ServiceUnavailable" || code == "RequestTimeout";
}

bool IsRetryable(const Attempt& a) {
  if (!a.local_error.ok()) return false;
  if (a.curl_code != CURLE_OK) return RetryableCurlCode(a.curl_code);
  long s = a.response.status;
  if (s >= 500 || s == 429) return true;
  if (s == 400 || s == 200) {
    std::optional<S3ErrorBody> e = ParseS3ErrorBody(a.response.body);
    return e.has_value() && RetryableS3Code(e->code);
  }
  return false;
}

bool IsSuccess(const Attempt& a) {
  if (!a.local_error.ok() || a.curl_code != CURLE_OK) return false;
  long s = a.response.status;
  if (s < 200 || s >= 300) return false;
  // CompleteMultipartUpload can answer 200 and report an error in the body.
  return !ParseS3ErrorBody(a.response.body).has_value();
}

// "HTTP 403 AccessDenied: Access Denied", or the transport error.
std::string DescribeFailure(const Attempt& a) {
  if (a.curl_code != CURLE_OK) {
    std::string s = curl_easy_strerror(a.curl_code);
    if (!a.curl_detail.empty()) s += " (" + a.curl_detail + ")";
    return s;
  }
  std::string s = "HTTP " + std::to_string(a.response.status);
  if (std::optional<S3ErrorBody> e = ParseS3ErrorBody(a.response.body)) {
    if (!e->code.empty()) s += " " + e->code;
    if (!e->message.empty()) s += ": " + e->message;
  } else if (!a.response.body.empty()) {
    // Not S3 XML (a proxy's HTML page, say): its first printable bytes.
    std::string excerpt;
    for (char c : a.response.body.substr(0, 120)) excerpt += (c >= 0x20 && c < 0x7f) ? c : ' ';
    s += ": " + excerpt;
  }
  return s;
}

Status FailureStatus(const Attempt& a, std::string_view step, int attempts) {
  if (!a.local_error.ok()) return a.local_error.WithContext(std::string(step) + " failed");
  std::string msg = std::string(step) + " failed";
  if (attempts > 1) msg += " after " + std::to_string(attempts) + " attempts";
  msg += ": " + DescribeFailure(a);
  if (a.curl_code == CURLE_OK) {
    if (a.response.status == 403) return Status::PermissionDenied(msg);
    if (a.response.status == 404) return Status::NotFound(msg);
  }
  return Status::IOError(msg);
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

}  // namespace

struct S3Client::Impl {
  CURL* curl = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::minstd_rand jitter{std::random_device{}()};

  // Per-request state the callbacks use.
  const HttpRequest* request = nullptr;
  uint64_t read_pos = 0;
  Status read_error;
  Attempt* attempt = nullptr;
  const std::function<void(uint64_t)>* on_sent = nullptr;

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  static size_t ReadCallback(char* buffer, size_t size, size_t nitems, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    const HttpRequest& r = *self->request;
    uint64_t left = r.length - self->read_pos;
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, size * nitems));
    if (n == 0) return 0;
    Status s = r.file->ReadAt(r.offset + self->read_pos, n, reinterpret_cast<uint8_t*>(buffer));
    if (!s.ok()) {
      self->read_error = s;
      return CURL_READFUNC_ABORT;
    }
    self->read_pos += n;
    return n;
  }

  static size_t WriteCallback(char* data, size_t size, size_t nmemb, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    std::string& body = self->attempt->response.body;
    size_t n = size * nmemb;
    if (body.size() < kMaxResponseBody) body.append(data, std::min(n, kMaxResponseBody - body.size()));
    return n;
  }

  static size_t HeaderCallback(char* data, size_t size, size_t nitems, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    size_t n = size * nitems;
    std::string_view line(data, n);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "etag") self->attempt->response.etag = Trimmed(line.substr(colon + 1));
    }
    return n;
  }

  static int ProgressCallback(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t ulnow) {
    auto* self = static_cast<Impl*>(userdata);
    if (self->on_sent != nullptr && *self->on_sent) (*self->on_sent)(static_cast<uint64_t>(ulnow));
    return 0;
  }

  Attempt PerformOnce(const S3Config& config, const HttpRequest& r, const std::string& payload_hash,
                      const std::function<void(uint64_t)>* sent);
  Result<HttpResponse> Send(const S3Config& config, const HttpRequest& r, std::string_view step,
                            const std::function<void(uint64_t)>* sent);
  Status PutMultipart(const S3Config& config, const LocalFile& file, const std::string& bucket, const std::string& key,
                      uint64_t* done, const std::function<void(uint64_t)>* sent);
};

S3Client::S3Client(S3Config config) : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  GlobalInitOnce();
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  if (config_.endpoint.empty()) config_.endpoint = "https://s3." + config_.region + ".amazonaws.com";
  if (config_.max_attempts < 1) config_.max_attempts = 1;
  if (config_.part_size == 0) config_.part_size = 16 << 20;
}

S3Client::~S3Client() = default;

namespace {

std::string RequestUrl(const S3Config& config, const HttpRequest& r) {
  const S3Addressing addressing = config.endpoint_is_bucket ? S3Addressing::kEndpointIsBucket
                                  : config.path_style       ? S3Addressing::kPath
                                                            : S3Addressing::kVirtual;
  return S3RequestUrl(config.endpoint, addressing, r.bucket, r.key, r.query);
}

// SHA-256 (hex) of the request body, which SigV4 signs.
Result<std::string> PayloadHash(const HttpRequest& r) {
  if (r.file == nullptr) return Sha256(AsBytes(r.memory_body)).Hex();
  Sha256Hasher hasher;
  std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(r.length, kReadBlock)));
  for (uint64_t done = 0; done < r.length;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(r.length - done, buf.size()));
    QM_RETURN_IF_ERROR(r.file->ReadAt(r.offset + done, n, buf.data()));
    hasher.Update(ByteView(buf.data(), n));
    done += n;
  }
  return hasher.Finish().Hex();
}

}  // namespace

// One HTTP exchange on the client's handle.
Attempt S3Client::Impl::PerformOnce(const S3Config& config, const HttpRequest& r, const std::string& payload_hash,
                                    const std::function<void(uint64_t)>* sent) {
  Attempt a;
  if (curl == nullptr) {
    curl = curl_easy_init();
    if (curl == nullptr) {
      Status loaded = CurlLoaded();
      a.local_error = loaded.ok() ? Status::IOError("libcurl could not create a handle") : loaded;
      return a;
    }
  } else {
    curl_easy_reset(curl);  // keeps the connection cache
  }
  request = &r;
  read_pos = 0;
  read_error = Status::OK();
  attempt = &a;
  on_sent = sent;
  error_buffer[0] = 0;

  const std::string url = RequestUrl(config, r);
  const std::string userpwd = config.access_key + ":" + config.secret_key;
  const std::string sigv4 = "aws:amz:" + config.region + ":s3";
  curl_slist* headers = nullptr;
  auto add_header = [&headers](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
  add_header("x-amz-content-sha256: " + payload_hash);
  if (!config.session_token.empty()) add_header("x-amz-security-token: " + config.session_token);
  if (!r.content_type.empty()) add_header("Content-Type: " + r.content_type);

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // keys may contain "..": never normalise them away
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, config.connect_timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, config.timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Impl::WriteCallback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Impl::HeaderCallback);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
  if (sent != nullptr) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Impl::ProgressCallback);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  if (r.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &Impl::ReadCallback);
    curl_easy_setopt(curl, CURLOPT_READDATA, this);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.length));
  } else if (r.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r.memory_body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.memory_body.size()));
  } else if (r.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  a.curl_code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (!read_error.ok()) {
    a.local_error = read_error;
  } else if (a.curl_code != CURLE_OK) {
    a.curl_detail = error_buffer;
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.response.status);
    curl_off_t length = -1;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    a.response.content_length = length < 0 ? 0 : static_cast<uint64_t>(length);
  }
  request = nullptr;
  attempt = nullptr;
  on_sent = nullptr;
  return a;
}

// Sends `r` up to config.max_attempts times with exponential backoff while the
// failure is retryable. `step` names the request in errors.
Result<HttpResponse> S3Client::Impl::Send(const S3Config& config, const HttpRequest& r, std::string_view step,
                                          const std::function<void(uint64_t)>* sent) {
  Result<std::string> hash = PayloadHash(r);
  if (!hash.ok()) return hash.status().WithContext(std::string(step) + " failed");
  Attempt a;
  int attempts = 0;
  for (;;) {
    ++attempts;
    a = PerformOnce(config, r, *hash, sent);
    if (IsSuccess(a)) return std::move(a.response);
    if (!IsRetryable(a) || attempts >= config.max_attempts) break;
    uint64_t delay = static_cast<uint64_t>(std::max(config.retry_base_delay_ms, 0)) << std::min(attempts - 1, 16);
    delay = std::min<uint64_t>(delay, 20000);
    delay += delay == 0 ? 0 : jitter() % (delay / 2 + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  }
  return FailureStatus(a, step, attempts);
}

Result<uint64_t> S3Client::HeadSize(const std::string& bucket, const std::string& key) {
  HttpRequest r;
  r.method = "HEAD";
  r.bucket = bucket;
  r.key = key;
  Result<HttpResponse> resp = impl_->Send(config_, r, "HEAD", nullptr);
  if (!resp.ok()) return resp.status().WithContext("s3://" + bucket + "/" + key);
  return resp->content_length;
}

Status S3Client::PutFile(const std::string& local_path, const std::string& bucket, const std::string& key,
                         const std::function<void(uint64_t sent, uint64_t total)>& progress) {
  const std::string where = "upload " + local_path + " to s3://" + bucket + "/" + key;
  if (Result<S3Location> loc = ParseS3Url("s3://" + bucket); !loc.ok()) return loc.status().WithContext(where);
  if (key.empty()) return Status::InvalidArgument(where, "object key is empty");
  if (key.size() > 1024) return Status::InvalidArgument(where, "object key is longer than 1024 bytes");

  LocalFile file;
  QM_RETURN_IF_ERROR(file.Open(local_path).WithContext(where));
  const uint64_t total = file.size();
  uint64_t done = 0;
  std::function<void(uint64_t)> sent;
  if (progress) sent = [&](uint64_t n) { progress(std::min(done + n, total), total); };

  if (total < config_.multipart_threshold) {
    HttpRequest r;
    r.method = "PUT";
    r.bucket = bucket;
    r.key = key;
    r.file = &file;
    r.length = total;
    r.content_type = "application/octet-stream";
    Result<HttpResponse> resp = impl_->Send(config_, r, "PUT", progress ? &sent : nullptr);
    if (!resp.ok()) return resp.status().WithContext(where);
  } else {
    QM_RETURN_IF_ERROR(
        impl_->PutMultipart(config_, file, bucket, key, &done, progress ? &sent : nullptr).WithContext(where));
  }
  if (progress) progress(total, total);

  Result<uint64_t> size = HeadSize(bucket, key);
  if (!size.ok()) return size.status().WithContext(where + ": check uploaded size");
  if (*size != total) {
    return Status::Corruption(where, "check uploaded size: the server has " + std::to_string(*size) +
                                         " bytes, the local file " + std::to_string(total));
  }
  return Status::OK();
}

Status S3Client::Impl::PutMultipart(const S3Config& config, const LocalFile& file, const std::string& bucket,
                                    const std::string& key, uint64_t* done, const std::function<void(uint64_t)>* sent) {
  const uint64_t total = file.size();
  // S3 allows 10,000 parts: grow the part size (to whole MiB) when needed.
  uint64_t part_size = config.part_size;
  if ((total + part_size - 1) / part_size > kMaxParts) {
    part_size = ((total + kMaxParts - 1) / kMaxParts + (1 << 20) - 1) / (1 << 20) * (1 << 20);
  }
  const uint64_t parts = std::max<uint64_t>(1, (total + part_size - 1) / part_size);

  HttpRequest create;
  create.method = "POST";
  create.bucket = bucket;
  create.key = key;
  create.query = {{"uploads", ""}};
  create.content_type = "application/octet-stream";
  QM_ASSIGN_OR_RETURN(HttpResponse created, Send(config, create, "create multipart upload", nullptr));
  std::optional<std::string> upload_id = XmlElementText(created.body, "UploadId");
  if (!upload_id.has_value() || upload_id->empty()) {
    return Status::IOError("create multipart upload", "the server's answer has no UploadId");
  }

  Status status = [&]() -> Status {
    std::string complete = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (uint64_t i = 0; i < parts; ++i) {
      HttpRequest part;
      part.method = "PUT";
      part.bucket = bucket;
      part.key = key;
      part.query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", *upload_id}};
      part.file = &file;
      part.offset = i * part_size;
      part.length = std::min(part_size, total - part.offset);
      *done = part.offset;
      const std::string step = "upload part " + std::to_string(i + 1) + " of " + std::to_string(parts);
      QM_ASSIGN_OR_RETURN(HttpResponse resp, Send(config, part, step, sent));
      if (resp.etag.empty()) return Status::IOError(step, "the server's answer has no ETag");
      complete += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + XmlEscape(resp.etag) +
                  "</ETag></Part>";
    }
    *done = total;
    complete += "</CompleteMultipartUpload>";
    HttpRequest finish;
    finish.method = "POST";
    finish.bucket = bucket;
    finish.key = key;
    finish.query = {{"uploadId", *upload_id}};
    finish.memory_body = std::move(complete);
    finish.content_type = "application/xml";
    return Send(config, finish, "complete multipart upload", nullptr).status();
  }();
  if (status.ok()) return status;

  // Do not leave the uploaded parts behind (they are billed until aborted).
  HttpRequest abort;
  abort.method = "DELETE";
  abort.bucket = bucket;
  abort.key = key;
  abort.query = {{"uploadId", *upload_id}};
  Status aborted = Send(config, abort, "abort multipart upload", nullptr).status();
  if (!aborted.ok()) {
    return Status(status.code(), status.message() + "; then " + aborted.message() + " (upload id " + *upload_id +
                                     " is left behind: remove it with aws s3api abort-multipart-upload)");
  }
  return status;
}

}  // namespace qm
