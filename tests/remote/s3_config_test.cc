// S3ConfigFromEnvironment precedence, driven through a fake EnvironmentSource
// (the real environment and ~/.aws are never read).
#include "store/remote/s3_config.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

namespace qm {
namespace {

struct FakeWorld {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;
  EnvironmentSource Source() const {
    EnvironmentSource s;
    s.get_env = [this](const std::string& n) -> std::optional<std::string> {
      auto it = env.find(n);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    s.read_file = [this](const std::string& p) -> Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return Status::NotFound(p);
      if (it->second == "<unreadable>") return Status::PermissionDenied(p, "Permission denied");
      return it->second;
    };
    return s;
  }
};

const char kCredentials[] =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = FILEDEFAULTKEY\n"
    "aws_secret_access_key = file-default-secret\n"
    "\n"
    "[work]\n"
    "aws_access_key_id=WORKKEY\n"
    "aws_secret_access_key=work-secret\n"
    "aws_session_token=work-token\n";

const char kConfig[] =
    "[default]\n"
    "region = eu-central-1\n"
    "[profile work]\n"
    "region = ap-southeast-2\n"
    "endpoint_url = http://minio.internal:9000\n"
    "s3 =\n"
    "  addressing_style = path\n"
    "[profile onlyconfig]\n"
    "aws_access_key_id = CONFIGKEY\n"
    "aws_secret_access_key = config-secret\n";

FakeWorld World() {
  FakeWorld w;
  w.env["HOME"] = "/home/op";
  w.files["/home/op/.aws/credentials"] = kCredentials;
  w.files["/home/op/.aws/config"] = kConfig;
  return w;
}

TEST(S3ConfigTest, DefaultProfileFromFiles) {
  FakeWorld w = World();
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key, "FILEDEFAULTKEY");
  EXPECT_EQ(c->secret_key, "file-default-secret");
  EXPECT_EQ(c->session_token, "");
  EXPECT_EQ(c->region, "eu-central-1");
  EXPECT_EQ(c->endpoint, "https://s3.eu-central-1.amazonaws.com");
  EXPECT_FALSE(c->path_style);
}

TEST(S3ConfigTest, EnvironmentBeatsFilesAndNeverMixes) {
  FakeWorld w = World();
  w.env["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  w.env["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  w.env["AWS_SESSION_TOKEN"] = "env-token";
  w.env["AWS_PROFILE"] = "work";
  w.env["AWS_DEFAULT_REGION"] = "us-west-2";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key, "ENVKEY");
  EXPECT_EQ(c->secret_key, "env-secret");
  EXPECT_EQ(c->session_token, "env-token");
  EXPECT_EQ(c->region, "us-west-2");
  // Only half the environment pair: the profile's keys and token, not a mix.
  w.env.erase("AWS_SECRET_ACCESS_KEY");
  c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key, "WORKKEY");
  EXPECT_EQ(c->secret_key, "work-secret");
  EXPECT_EQ(c->session_token, "work-token");
}

TEST(S3ConfigTest, AwsRegionBeatsAwsDefaultRegion) {
  FakeWorld w = World();
  w.env["AWS_DEFAULT_REGION"] = "us-west-2";
  w.env["AWS_REGION"] = "sa-east-1";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->region, "sa-east-1");
}

TEST(S3ConfigTest, ProfileSelection) {
  FakeWorld w = World();
  w.env["AWS_PROFILE"] = "work";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key, "WORKKEY");
  EXPECT_EQ(c->session_token, "work-token");
  EXPECT_EQ(c->region, "ap-southeast-2");
  EXPECT_EQ(c->endpoint, "http://minio.internal:9000");
  EXPECT_TRUE(c->path_style);

  w.env["AWS_PROFILE"] = "onlyconfig";  // keys in the config file only
  c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key, "CONFIGKEY");
  EXPECT_EQ(c->region, "us-east-1");
}

TEST(S3ConfigTest, FileLocationsFromVariables) {
  FakeWorld w;
  w.env["AWS_SHARED_CREDENTIALS_FILE"] = "/etc/qm/creds";
  w.env["AWS_CONFIG_FILE"] = "/etc/qm/config";
  w.files["/etc/qm/creds"] = kCredentials;
  w.files["/etc/qm/config"] = "[default]\nregion=eu-north-1\n";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key, "FILEDEFAULTKEY");
  EXPECT_EQ(c->region, "eu-north-1");
}

TEST(S3ConfigTest, EndpointPrecedence) {
  FakeWorld w = World();
  w.env["AWS_PROFILE"] = "work";  // endpoint_url in the config file
  w.env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4568/";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:4568");
  w.env["AWS_ENDPOINT_URL_S3"] = "http://s3-only:1";
  c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://s3-only:1");
  c = S3ConfigFromEnvironment("https://explicit.example", w.Source());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "https://explicit.example");
  EXPECT_TRUE(c->path_style);
}

TEST(S3ConfigTest, AwsAndAliyunOssEndpointsAreVirtualHostedOthersPathStyle) {
  FakeWorld w = World();
  for (const auto& [endpoint, path_style] : std::vector<std::pair<std::string, bool>>{
           {"https://oss-cn-hangzhou.aliyuncs.com", false},
           {"https://oss-cn-shanghai-internal.aliyuncs.com", false},
           {"https://s3.eu-west-1.amazonaws.com", false},
           {"https://S3.cn-north-1.AMAZONAWS.com.cn", false},
           {"http://127.0.0.1:4568", true},
           {"https://minio.internal:9000", true},
           {"https://aliyuncs.com.evil.example", true},
       }) {
    Result<S3Config> c = S3ConfigFromEnvironment(endpoint, w.Source());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->path_style, path_style) << endpoint;
  }
}

TEST(S3ConfigTest, AddressingOverrideAndBadValue) {
  FakeWorld w = World();
  w.env["QM_SNAP_S3_ADDRESSING"] = "path";
  Result<S3Config> c = S3ConfigFromEnvironment("https://oss-cn-hangzhou.aliyuncs.com", w.Source());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->path_style);
  w.env["QM_SNAP_S3_ADDRESSING"] = "virtual";
  c = S3ConfigFromEnvironment("https://storage.example", w.Source());
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->path_style);
  EXPECT_FALSE(c->endpoint_is_bucket);
  w.env["QM_SNAP_S3_ADDRESSING"] = "cname";
  c = S3ConfigFromEnvironment("https://backups.example.com", w.Source());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->endpoint_is_bucket);
  w.env["QM_SNAP_S3_ADDRESSING"] = "sideways";
  c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("must be path, virtual, cname or auto"), std::string::npos)
      << c.status().message();
}

TEST(S3ConfigTest, BadEndpointNamesItsOrigin) {
  FakeWorld w = World();
  w.env["AWS_ENDPOINT_URL"] = "ftp://x";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_ENDPOINT_URL"), std::string::npos) << c.status().message();
  c = S3ConfigFromEnvironment("http://host/path", w.Source());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("without a path"), std::string::npos) << c.status().message();
}

TEST(S3ConfigTest, MissingCredentialsNamesWhatToSet) {
  FakeWorld w;
  w.env["HOME"] = "/home/nobody";
  w.env["AWS_PROFILE"] = "backup";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  const std::string& m = c.status().message();
  for (const char* word :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "\"backup\"", "/home/nobody/.aws/credentials"}) {
    EXPECT_NE(m.find(word), std::string::npos) << word << " missing in: " << m;
  }
}

TEST(S3ConfigTest, UnreadableFileIsAnError) {
  FakeWorld w = World();
  w.files["/home/op/.aws/credentials"] = "<unreadable>";
  Result<S3Config> c = S3ConfigFromEnvironment(std::nullopt, w.Source());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/home/op/.aws/credentials"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace qm
