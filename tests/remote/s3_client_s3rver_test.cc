// S3Client against a real S3-compatible server, s3rver (npm), installed by
// tools/s3rver-setup.sh outside the source tree. Each test starts its own
// s3rver on a free port of 127.0.0.1 with bucket "testbucket", and checks the
// uploads with the AWS CLI as an independent client.
//
// s3rver checks access key ids but not SigV4 signatures (the fake server in
// s3_client_fake_server_test.cc does that).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "core/hash.h"
#include "store/remote/s3_client.h"
#include "tests/remote/test_servers.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

using testing::ChildProcess;

// Where tools/s3rver-setup.sh put s3rver's entry point; "" when nowhere.
std::string S3rverScript() {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("QMSNAP_S3RVER_DIR")) dirs.push_back(d);
  dirs.push_back("/var/cache/qm-snap-test/s3rver");
  if (const char* home = std::getenv("HOME")) dirs.push_back(std::string(home) + "/.cache/qm-snap/s3rver");
  for (const std::string& d : dirs) {
    std::string script = d + "/node_modules/s3rver/bin/s3rver.js";
    if (std::filesystem::exists(script)) return script;
  }
  return "";
}

class S3rverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string script = S3rverScript();
    ASSERT_FALSE(script.empty()) << "s3rver is not installed: run tools/s3rver-setup.sh (it installs s3rver@3.7.1 "
                                    "with npm into $QMSNAP_S3RVER_DIR, default /var/cache/qm-snap-test/s3rver)";
    std::filesystem::create_directories(dir_.path() + "/s3");
    port_ = testing::FreePort();
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"node", script, "--address", "127.0.0.1", "--port", std::to_string(port_),
                                 "--directory", dir_.path() + "/s3", "--silent", "--configure-bucket", "testbucket"});
    ASSERT_TRUE(testing::WaitFor([&] { return testing::PortAnswers(port_) || !server_->Running(); }, 30))
        << "s3rver did not start on port " << port_;
    ASSERT_TRUE(server_->Running()) << "s3rver exited at start";
  }

  S3Config Config() const {
    S3Config c;
    c.endpoint = Endpoint();
    c.access_key = "S3RVER";
    c.secret_key = "S3RVER";
    c.retry_base_delay_ms = 10;
    return c;
  }
  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Downloads testbucket/key with the AWS CLI.
  void AwsDownload(const std::string& key, const std::string& to) {
    testing::CommandResult r = testing::RunCommand(
        "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
        "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null aws --endpoint-url " +
        Endpoint() + " s3 cp 's3://testbucket/" + key + "' '" + to + "'");
    ASSERT_EQ(r.exit_code, 0) << "aws s3 cp failed (is the AWS CLI installed? tools/install-deps.sh):\n" << r.output;
  }

  std::string WriteRandomFile(const std::string& name, size_t size, uint64_t seed) {
    std::string path = dir_.path() + "/" + name;
    WriteStringToFile(path, RandomBytes(size, seed));
    return path;
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

std::string Sha256Of(const std::string& path) {
  return Sha256(AsBytes(ReadFileToString(path))).Hex();
}

TEST_F(S3rverTest, SmallFileSinglePut) {
  std::string file = WriteRandomFile("small", 123457, 1);
  S3Client client(Config());
  Status s = client.PutFile(file, "testbucket", "backups/small.bin");
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<uint64_t> size = client.HeadSize("testbucket", "backups/small.bin");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 123457u);
  AwsDownload("backups/small.bin", dir_.path() + "/small.back");
  EXPECT_EQ(Sha256Of(file), Sha256Of(dir_.path() + "/small.back"));
}

TEST_F(S3rverTest, EmptyFile) {
  std::string file = WriteRandomFile("empty", 0, 1);
  S3Client client(Config());
  ASSERT_TRUE(client.PutFile(file, "testbucket", "empty").ok());
  Result<uint64_t> size = client.HeadSize("testbucket", "empty");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 0u);
}

TEST_F(S3rverTest, LargeFileGoesMultipartAndIsByteIdentical) {
  const size_t kSize = 12 << 20;  // 5 MiB + 5 MiB + 2 MiB
  std::string file = WriteRandomFile("big", kSize, 2);
  S3Config config = Config();
  config.part_size = 5 << 20;
  config.multipart_threshold = 8 << 20;
  S3Client client(config);
  uint64_t last = 0;
  auto start = std::chrono::steady_clock::now();
  Status s = client.PutFile(file, "testbucket", "data/x.tar.gz", [&](uint64_t sent, uint64_t) { last = sent; });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(last, kSize);
  std::printf("multipart upload of 12 MiB to s3rver: %.2f s, %.1f MiB/s\n", seconds, 12 / seconds);
  Result<uint64_t> size = client.HeadSize("testbucket", "data/x.tar.gz");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, kSize);
  AwsDownload("data/x.tar.gz", dir_.path() + "/big.back");
  EXPECT_EQ(Sha256Of(file), Sha256Of(dir_.path() + "/big.back"));
  // (s3rver gives multipart objects a plain MD5 ETag, so that the upload went
  // multipart is checked against the fake server, which logs each request.)
}

TEST_F(S3rverTest, UnknownAccessKeyIs403WithTheS3Code) {
  std::string file = WriteRandomFile("f", 10, 3);
  S3Config config = Config();
  config.access_key = "NOSUCHKEY";
  S3Client client(config);
  Status s = client.PutFile(file, "testbucket", "k");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("s3://testbucket/k: PUT failed: HTTP 403 InvalidAccessKeyId: "), std::string::npos)
      << s.message();
}

TEST_F(S3rverTest, MissingBucketIsNoSuchBucket) {
  std::string file = WriteRandomFile("f", 10, 4);
  S3Client client(Config());
  Status s = client.PutFile(file, "no-such-bucket", "k");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("PUT failed: HTTP 404 NoSuchBucket: The specified bucket does not exist"),
            std::string::npos)
      << s.message();
  // Multipart names the step too.
  S3Config config = Config();
  config.multipart_threshold = 1;
  S3Client multipart(config);
  s = multipart.PutFile(file, "no-such-bucket", "k");
  EXPECT_NE(s.message().find("create multipart upload failed: HTTP 404 NoSuchBucket"), std::string::npos)
      << s.message();
}

TEST_F(S3rverTest, HeadOfMissingObjectIsNotFound) {
  S3Client client(Config());
  Result<uint64_t> size = client.HeadSize("testbucket", "absent");
  ASSERT_FALSE(size.ok());
  EXPECT_TRUE(size.status().IsNotFound()) << size.status().ToString();
  EXPECT_NE(size.status().message().find("s3://testbucket/absent: HEAD failed: HTTP 404"), std::string::npos)
      << size.status().message();
}

// `qm-snap export --upload`, end to end: the guide's weekly offsite step.
class ExportUploadTest : public S3rverTest {
 protected:
  void SetUp() override {
    S3rverTest::SetUp();
    if (HasFatalFailure()) return;
    src_ = dir_.path() + "/src";
    repo_ = dir_.path() + "/repo";
    std::filesystem::create_directories(src_ + "/data");
    WriteStringToFile(src_ + "/config.yaml", "exchange:\n  api_key: FAKE\n");
    MakeSqliteDatabase(src_ + "/data/quantmesh.db", 3000, 1);
    ASSERT_EQ(0, Qm("init --repo " + repo_).code);
    auto b = Qm("backup --repo " + repo_ + " --source " + src_ + " --time 20250129_143022");
    ASSERT_EQ(0, b.code) << b.err;
  }
  // The binary with the server's credentials and nothing from ~/.aws.
  ShellResult Qm(const std::string& args, const std::string& env = "") {
    return qm::Qm(args,
                  "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
                  "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null " +
                      env);
  }
  std::string src_, repo_;
};

TEST_F(ExportUploadTest, ArchiveAndChecksumAreUploadedAndPassSha256sumAfterDownload) {
  const std::string out = dir_.path() + "/offsite";
  auto r = Qm("export latest --repo " + repo_ + " --output-dir " + out +
              " --upload s3://testbucket/quantmesh-backups --endpoint " + Endpoint() + " --json");
  ASSERT_EQ(0, r.code) << r.err;
  EXPECT_NE(r.out.find("\"archive\":\"s3://testbucket/quantmesh-backups/20250129_143022.tar.gz\""), std::string::npos)
      << r.out;
  const std::string back = dir_.path() + "/downloaded";
  std::filesystem::create_directories(back);
  AwsDownload("quantmesh-backups/20250129_143022.tar.gz", back + "/20250129_143022.tar.gz");
  AwsDownload("quantmesh-backups/20250129_143022.sha256", back + "/20250129_143022.sha256");
  auto c = RunShell("cd " + back + " && sha256sum -c 20250129_143022.sha256");
  EXPECT_EQ(0, c.code) << c.out << c.err;
}

TEST_F(ExportUploadTest, BackupUploadEnabledUsesTheConfiguredDestination) {
  auto r = Qm("export latest --repo " + repo_ + " --output-dir " + dir_.path() + "/offsite",
              "BACKUP_UPLOAD_ENABLED=true QM_SNAP_UPLOAD=s3://testbucket/weekly AWS_ENDPOINT_URL=" + Endpoint());
  ASSERT_EQ(0, r.code) << r.err;
  AwsDownload("weekly/20250129_143022.sha256", dir_.path() + "/x.sha256");

  auto none =
      Qm("export latest --repo " + repo_ + " --output-dir " + dir_.path() + "/offsite2", "BACKUP_UPLOAD_ENABLED=true");
  EXPECT_NE(0, none.code);
  EXPECT_NE(none.err.find("QM_SNAP_UPLOAD"), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/offsite2")) << "refused before exporting";
}

TEST_F(ExportUploadTest, AFailedUploadSaysWhatTheServerAnsweredAndKeepsTheArchive) {
  const std::string out = dir_.path() + "/offsite";
  auto r = Qm("export latest --repo " + repo_ + " --output-dir " + out + " --upload s3://nosuchbucket/x --endpoint " +
              Endpoint());
  EXPECT_NE(0, r.code);
  EXPECT_NE(r.err.find("upload of the archive"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NoSuchBucket"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is kept there"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(out + "/20250129_143022.tar.gz"));
  EXPECT_TRUE(std::filesystem::exists(out + "/20250129_143022.sha256"));
}

// With a custom domain bound to the bucket (QM_SNAP_S3_ADDRESSING=cname, as
// Aliyun OSS requires of new mainland-China accounts) the URL carries only
// the key: here the endpoint is s3rver's root and the key starts with the
// bucket s3rver routes by, so a real server sees exactly the URL shape sent.
TEST_F(ExportUploadTest, CnameAddressingPutsOnlyTheKeyInTheUrl) {
  auto r = Qm("export latest --repo " + repo_ + " --output-dir " + dir_.path() + "/offsite" +
                  " --upload s3://bound-to-the-domain/testbucket/cname --endpoint " + Endpoint(),
              "QM_SNAP_S3_ADDRESSING=cname");
  ASSERT_EQ(0, r.code) << r.err;
  AwsDownload("cname/20250129_143022.sha256", dir_.path() + "/x.sha256");
  EXPECT_NE(ReadFileToString(dir_.path() + "/x.sha256").find("20250129_143022.tar.gz"), std::string::npos);
}

TEST_F(ExportUploadTest, MissingCredentialsAreRefusedBeforeExporting) {
  auto r = RunShell(
      "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE=/dev/null "
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null " QMSNAP_BINARY " export latest --repo " +
      repo_ + " --output-dir " + dir_.path() + "/o --upload s3://testbucket/x");
  EXPECT_NE(0, r.code);
  EXPECT_NE(r.err.find("AWS_ACCESS_KEY_ID"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/o"));
}

}  // namespace
}  // namespace qm
