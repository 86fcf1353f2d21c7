// S3Client against tests/remote/fake_s3_server.py, which checks every SigV4
// signature with its own implementation (so libcurl's signing, the query
// order and encoding, and the payload hash are verified, which s3rver does
// not do) and can fail on purpose to exercise retries.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "store/remote/s3_client.h"
#include "tests/remote/test_servers.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

using testing::ChildProcess;

class FakeS3 {
 public:
  FakeS3(const TempDir& dir, std::vector<std::string> extra_args) {
    port_file_ = dir.path() + "/port";
    log_file_ = dir.path() + "/requests.log";
    std::vector<std::string> argv = {"python3",     std::string(QMSNAP_SOURCE_DIR) + "/tests/remote/fake_s3_server.py",
                                     "--port-file", port_file_,
                                     "--log-file",  log_file_,
                                     "--secret",    "fake-secret"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    child_ = std::make_unique<ChildProcess>(argv);
    bool up = testing::WaitFor([&] { return std::filesystem::exists(port_file_); }, 20);
    EXPECT_TRUE(up) << "fake S3 server did not start";
    if (up) port_ = std::stoi(ReadFileToString(port_file_));
  }
  S3Config Config() const {
    S3Config c;
    c.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    c.access_key = "FAKEKEY";
    c.secret_key = "fake-secret";
    c.retry_base_delay_ms = 10;
    return c;
  }
  // "METHOD PATH?QUERY" of each request so far.
  std::vector<std::string> Log() const {
    std::vector<std::string> lines;
    if (!std::filesystem::exists(log_file_)) return lines;
    std::string text = ReadFileToString(log_file_);
    for (size_t start = 0; start < text.size();) {
      size_t nl = text.find('\n', start);
      lines.push_back(text.substr(start, nl - start));
      start = nl == std::string::npos ? text.size() : nl + 1;
    }
    return lines;
  }
  int Requests() const { return static_cast<int>(Log().size()); }

 private:
  std::string port_file_, log_file_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

TEST(S3ClientFakeServerTest, SinglePutIsCorrectlySigned) {
  TempDir dir;
  FakeS3 server(dir, {});
  std::string file = dir.path() + "/small";
  WriteStringToFile(file, RandomBytes(100000, 1));
  S3Client client(server.Config());
  // A key with characters that must be encoded, and a ".." that must not be normalised away.
  const std::string key = "dir/with space/../ü+x=y&z/file.tar.gz";
  Status s = client.PutFile(file, "bucket", key);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<uint64_t> size = client.HeadSize("bucket", key);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 100000u);
}

TEST(S3ClientFakeServerTest, MultipartQueryStringsAreCorrectlySigned) {
  TempDir dir;
  FakeS3 server(dir, {});
  std::string file = dir.path() + "/big";
  WriteStringToFile(file, RandomBytes(2500000, 2));
  S3Config config = server.Config();
  config.session_token = "session/token+with=odd&chars";
  config.multipart_threshold = 1 << 20;
  config.part_size = 1 << 20;
  S3Client client(config);
  std::vector<uint64_t> seen;
  Status s = client.PutFile(file, "bucket", "k", [&](uint64_t sent, uint64_t total) {
    EXPECT_EQ(total, 2500000u);
    seen.push_back(sent);
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 2500000u);
  EXPECT_EQ(server.Requests(), 1 + 3 + 1 + 1);  // create, 3 parts, complete, HEAD
}

TEST(S3ClientFakeServerTest, WrongSecretIsSignatureDoesNotMatch) {
  TempDir dir;
  FakeS3 server(dir, {});
  std::string file = dir.path() + "/f";
  WriteStringToFile(file, "hello");
  S3Config config = server.Config();
  config.secret_key = "wrong";
  S3Client client(config);
  Status s = client.PutFile(file, "bucket", "k");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("upload " + file + " to s3://bucket/k: PUT failed: HTTP 403 SignatureDoesNotMatch"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(server.Requests(), 1) << "a 403 must not be retried";
}

TEST(S3ClientFakeServerTest, RetriesServerErrorsThenSucceeds) {
  TempDir dir;
  FakeS3 server(dir, {"--fail-first", "2", "--fail-status", "500"});
  std::string file = dir.path() + "/f";
  WriteStringToFile(file, RandomBytes(3000, 3));
  S3Client client(server.Config());
  Status s = client.PutFile(file, "bucket", "k");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(server.Requests(), 2 + 1 + 1);  // two 500s, the PUT, the HEAD
}

TEST(S3ClientFakeServerTest, RetriedPartsOfAMultipartUpload) {
  TempDir dir;
  // The first two requests (create and its first retry) fail with 503.
  FakeS3 server(dir, {"--fail-first", "2", "--fail-status", "503"});
  std::string file = dir.path() + "/f";
  WriteStringToFile(file, RandomBytes(3 << 20, 4));
  S3Config config = server.Config();
  config.multipart_threshold = 1 << 20;
  config.part_size = 1 << 20;
  S3Client client(config);
  Status s = client.PutFile(file, "bucket", "k");
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST(S3ClientFakeServerTest, GivesUpAfterMaxAttemptsAndSaysSo) {
  TempDir dir;
  FakeS3 server(dir, {"--always-status", "503"});
  std::string file = dir.path() + "/f";
  WriteStringToFile(file, "x");
  S3Config config = server.Config();
  config.max_attempts = 4;
  S3Client client(config);
  auto start = std::chrono::steady_clock::now();
  Status s = client.PutFile(file, "bucket", "k");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_NE(s.message().find("PUT failed after 4 attempts: HTTP 503 SlowDown: Please reduce your request rate."),
            std::string::npos)
      << s.message();
  EXPECT_EQ(server.Requests(), 4);
  EXPECT_LT(seconds, 5.0);  // 10, 20, 40 ms (+ jitter) of backoff
}

TEST(S3ClientFakeServerTest, MultipartFailureAbortsTheUpload) {
  TempDir dir;
  FakeS3 server(dir, {"--refuse-part", "2"});
  std::string file = dir.path() + "/f";
  WriteStringToFile(file, RandomBytes(3 << 20, 5));
  S3Config config = server.Config();
  config.multipart_threshold = 1 << 20;
  config.part_size = 1 << 20;
  S3Client client(config);
  Status s = client.PutFile(file, "bucket", "data/x.tar.gz");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("s3://bucket/data/x.tar.gz: upload part 2 of 3 failed: HTTP 400 InvalidArgument: "
                             "Part number refused by the test."),
            std::string::npos)
      << s.message();
  std::vector<std::string> log = server.Log();
  ASSERT_EQ(log.size(), 4u);  // create, part 1, part 2 (not retried: a 400), abort
  EXPECT_EQ(log[0], "POST /bucket/data/x.tar.gz?uploads=");
  EXPECT_EQ(log[3].substr(0, 37), "DELETE /bucket/data/x.tar.gz?uploadId");
}

TEST(S3ClientFakeServerTest, ConnectionRefusedIsRetriedAndNamed) {
  int port = testing::FreePort();  // nothing listens there
  S3Config config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(port);
  config.access_key = "k";
  config.secret_key = "s";
  config.max_attempts = 3;
  config.retry_base_delay_ms = 1;
  S3Client client(config);
  Result<uint64_t> size = client.HeadSize("bucket", "k");
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("HEAD failed after 3 attempts: Couldn't connect to server"), std::string::npos)
      << size.status().message();
}

TEST(S3ClientFakeServerTest, LocalFileProblemsAreNamed) {
  S3Config config;
  config.endpoint = "http://127.0.0.1:1";
  config.access_key = "k";
  config.secret_key = "s";
  S3Client client(config);
  Status s = client.PutFile("/nonexistent/file", "bucket", "k");
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("open /nonexistent/file"), std::string::npos) << s.message();
  TempDir dir;
  s = client.PutFile(dir.path(), "bucket", "k");
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  s = client.PutFile(dir.path(), "Bad_Bucket", "k");
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  s = client.PutFile(dir.path(), "bucket", "");
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
}

}  // namespace
}  // namespace qm
