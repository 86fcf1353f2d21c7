// S3 XML error bodies, element text, entity decoding and escaping.
#include "store/remote/s3_xml.h"

#include <gtest/gtest.h>

namespace qm {
namespace {

TEST(S3XmlTest, ParsesAwsErrorBody) {
  std::optional<S3ErrorBody> e = ParseS3ErrorBody(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
      "<BucketName>nope</BucketName><RequestId>4442587FB7D0A2F9</RequestId></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchBucket");
  EXPECT_EQ(e->message, "The specified bucket does not exist");
}

TEST(S3XmlTest, DecodesEntities) {
  std::optional<S3ErrorBody> e = ParseS3ErrorBody(
      "<Error><Code>A&amp;B</Code><Message>&lt;x&gt; &quot;y&quot; &apos;z&apos; &#65;&#x42;"
      "&#xFC; &bogus; &#xZZ; &</Message></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "A&B");
  EXPECT_EQ(e->message, "<x> \"y\" 'z' AB\xc3\xbc &bogus; &#xZZ; &");
}

TEST(S3XmlTest, NotAnErrorBody) {
  EXPECT_FALSE(ParseS3ErrorBody("").has_value());
  EXPECT_FALSE(ParseS3ErrorBody("<html><body>502 Bad Gateway</body></html>").has_value());
  EXPECT_FALSE(ParseS3ErrorBody("<Error>").has_value());
  EXPECT_FALSE(
      ParseS3ErrorBody("<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>").has_value());
  // Truncated: the Code survives, the Message does not.
  std::optional<S3ErrorBody> e = ParseS3ErrorBody("<Error><Code>SlowDown</Code><Message>Please red");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "SlowDown");
  EXPECT_EQ(e->message, "");
}

TEST(S3XmlTest, ElementText) {
  EXPECT_EQ(XmlElementText("<R><UploadId>abc.def-1</UploadId></R>", "UploadId"), "abc.def-1");
  EXPECT_FALSE(XmlElementText("<R><UploadId>abc</R>", "UploadId").has_value());
  EXPECT_EQ(XmlElementText("<UploadId></UploadId>", "UploadId"), "");
}

TEST(S3XmlTest, EscapeRoundTrips) {
  std::string s = "\"etag\" <&> 'x'";
  EXPECT_EQ(XmlEscape(s), "&quot;etag&quot; &lt;&amp;&gt; &apos;x&apos;");
  EXPECT_EQ(XmlElementText("<E>" + XmlEscape(s) + "</E>", "E"), s);
}

}  // namespace
}  // namespace qm
