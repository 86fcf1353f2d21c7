// ParseS3Url against good and hostile input; SigV4 URI encoding and the
// canonical query string used to build signable request URLs.
#include "store/remote/s3_url.h"

#include <gtest/gtest.h>

namespace qm {
namespace {

TEST(ParseS3UrlTest, BucketAndPrefix) {
  Result<S3Location> l = ParseS3Url("s3://my-bucket/backups/host1/");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->bucket, "my-bucket");
  EXPECT_EQ(l->prefix, "backups/host1/");
}

TEST(ParseS3UrlTest, BucketOnly) {
  for (const char* url : {"s3://bucket.with.dots", "s3://bucket.with.dots/"}) {
    Result<S3Location> l = ParseS3Url(url);
    ASSERT_TRUE(l.ok()) << url << ": " << l.status().ToString();
    EXPECT_EQ(l->bucket, "bucket.with.dots");
    EXPECT_EQ(l->prefix, "");
  }
}

TEST(ParseS3UrlTest, PrefixKeepsOddCharacters) {
  Result<S3Location> l = ParseS3Url("s3://abc/a b/../c?d#e/ü");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->prefix, "a b/../c?d#e/ü");
}

void ExpectBad(std::string_view url, std::string_view words) {
  Result<S3Location> l = ParseS3Url(url);
  ASSERT_FALSE(l.ok()) << url;
  EXPECT_EQ(l.status().code(), Code::kInvalidArgument);
  EXPECT_NE(l.status().message().find(words), std::string::npos) << l.status().message();
}

TEST(ParseS3UrlTest, HostileInput) {
  ExpectBad("", "must start with s3://");
  ExpectBad("https://bucket/x", "must start with s3://");
  ExpectBad("S3://bucket/x", "must start with s3://");
  ExpectBad("s3:/bucket/x", "must start with s3://");
  ExpectBad("s3://", "bucket name is empty");
  ExpectBad("s3:///key", "bucket name is empty");
  ExpectBad("s3://ab", "3 to 63");
  ExpectBad("s3://" + std::string(64, 'a'), "3 to 63");
  ExpectBad("s3://Bucket/x", "lowercase");
  ExpectBad("s3://bu_cket", "lowercase");
  ExpectBad("s3://bucket:443/x", "lowercase");
  ExpectBad("s3://user@bucket/x", "lowercase");
  ExpectBad("s3://-bucket", "start and end");
  ExpectBad("s3://bucket-", "start and end");
  ExpectBad("s3://a..b", "\"..\"");
  ExpectBad("s3://192.168.1.1/x", "IP address");
  ExpectBad(" s3://bucket/x", "must start with s3://");
  ExpectBad("s3://bucket/x\ny", "control character");
  ExpectBad(std::string_view("s3://bucket/x\0y", 15), "control character");
  ExpectBad("s3://bucket/" + std::string(1025, 'k'), "1024");
}

TEST(ParseS3UrlTest, ErrorQuotesInputSafely) {
  Result<S3Location> l = ParseS3Url("s3://bucket/\x1b[31mred");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("\\x1b"), std::string::npos) << l.status().message();
  EXPECT_EQ(l.status().message().find('\x1b'), std::string::npos);
}

TEST(S3UriEncodeTest, AwsRules) {
  EXPECT_EQ(S3UriEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(S3UriEncode("a b/c+d=e&f", false), "a%20b%2Fc%2Bd%3De%26f");
  EXPECT_EQ(S3UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(S3UriEncode("\xc3\xbc", true), "%C3%BC");
}

TEST(CanonicalQueryStringTest, SortedEncodedAndValueLessAsEmpty) {
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQueryString({{"uploadId", "a/b+c=="}, {"partNumber", "10"}}),
            "partNumber=10&uploadId=a%2Fb%2Bc%3D%3D");
  // Sorted by code point: uppercase before lowercase, then by value.
  EXPECT_EQ(CanonicalQueryString({{"b", "2"}, {"B", "1"}, {"b", "1"}}), "B=1&b=1&b=2");
}

TEST(S3RequestUrlTest, VirtualHostedPathStyleAndDottedBuckets) {
  EXPECT_EQ(S3RequestUrl("https://oss-cn-hangzhou.aliyuncs.com", S3Addressing::kVirtual, "qm-backups",
                         "host1/20250129_143022.tar.gz", {}),
            "https://qm-backups.oss-cn-hangzhou.aliyuncs.com/host1/20250129_143022.tar.gz");
  EXPECT_EQ(S3RequestUrl("http://127.0.0.1:4568", S3Addressing::kPath, "qm-backups", "a b.tar.gz", {{"uploads", ""}}),
            "http://127.0.0.1:4568/qm-backups/a%20b.tar.gz?uploads=");
  // A dotted bucket would not match *.s3.amazonaws.com's certificate: path-style.
  EXPECT_EQ(S3RequestUrl("https://s3.us-east-1.amazonaws.com", S3Addressing::kVirtual, "my.bucket", "k", {}),
            "https://s3.us-east-1.amazonaws.com/my.bucket/k");
  // A custom domain bound to the bucket (Aliyun OSS CNAME): no bucket in the URL.
  EXPECT_EQ(
      S3RequestUrl("https://backups.example.com", S3Addressing::kEndpointIsBucket, "qm-backups", "x/y.sha256", {}),
      "https://backups.example.com/x/y.sha256");
}

}  // namespace
}  // namespace qm
