// The little XML S3 speaks: error bodies (<Error><Code>..</Code><Message>..
// </Message></Error>), the UploadId of CreateMultipartUpload, and escaping
// for the CompleteMultipartUpload body.
//
// Not a general XML parser: it finds the first element with a given name
// and decodes the five predefined entities and numeric character references.
// Pure functions: no I/O, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qm {

// The decoded text of the first <tag>...</tag> in `xml`; nullopt when absent.
std::optional<std::string> XmlElementText(std::string_view xml, std::string_view tag);

struct S3ErrorBody {
  std::string code;     // e.g. "NoSuchBucket"; may be empty
  std::string message;  // e.g. "The specified bucket does not exist"; may be empty
};

// The Code and Message of an S3 <Error> document; nullopt when `body` is not
// one (empty, HTML from a proxy, truncated...).
std::optional<S3ErrorBody> ParseS3ErrorBody(std::string_view body);

// `s` with & < > " ' replaced by entities.
std::string XmlEscape(std::string_view s);

}  // namespace qm
