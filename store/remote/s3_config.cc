#include "store/remote/s3_config.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace qm {
namespace {

using Section = std::map<std::string, std::string>;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The keys of section `wanted` in an AWS INI file. Indented lines (nested
// settings such as "s3 =\n  addressing_style = path") and comments are skipped.
Section IniSection(std::string_view text, std::string_view wanted) {
  Section out;
  bool in_section = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == ' ' || line.front() == '\t') continue;
    line = Trim(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      std::string_view name = Trim(line.substr(1, close == std::string_view::npos ? line.npos : close - 1));
      in_section = name == wanted;
      continue;
    }
    if (!in_section) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(Trim(line.substr(0, eq)));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[key] = std::string(Trim(line.substr(eq + 1)));
  }
  return out;
}

std::string Get(const Section& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? std::string() : it->second;
}

// The named file's content; empty when it does not exist.
Result<std::string> ReadOptionalFile(const EnvironmentSource& source, const std::string& path) {
  Result<std::string> text = source.read_file(path);
  if (text.ok()) return text;
  if (text.status().IsNotFound()) return std::string();
  return text.status().WithContext("read AWS settings file " + path);
}

Status CheckEndpoint(const std::string& endpoint, std::string_view origin) {
  bool http = endpoint.rfind("http://", 0) == 0;
  bool https = endpoint.rfind("https://", 0) == 0;
  std::string_view host = std::string_view(endpoint).substr(http ? 7 : https ? 8 : 0);
  if ((!http && !https) || host.empty() || host.find_first_of("/?# ") != std::string_view::npos) {
    return Status::InvalidArgument("S3 endpoint \"" + endpoint + "\" (from " + std::string(origin) + ")",
                                   "must be http://HOST[:PORT] or https://HOST[:PORT] without a path");
  }
  return Status::OK();
}

}  // namespace

bool IsVirtualHostedService(const std::string& endpoint) {
  size_t start = endpoint.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::string host = endpoint.substr(start);
  host = host.substr(0, host.find_first_of(":/"));
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto ends_with = [&](const std::string& suffix) {
    return host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".amazonaws.com") || ends_with(".amazonaws.com.cn") || ends_with(".aliyuncs.com");
}

EnvironmentSource ProcessEnvironment() {
  EnvironmentSource source;
  source.get_env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  source.read_file = [](const std::string& path) -> Result<std::string> {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return Status::NotFound(path, "no such file");
      return Status::IOError(path, std::strerror(err));
    }
    std::string content;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0 && content.size() < (1u << 20)) content.append(buf, n);
    bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) return Status::IOError(path, "read failed");
    return content;
  };
  return source;
}

Result<S3Config> S3ConfigFromEnvironment(std::optional<std::string> endpoint_override,
                                         const EnvironmentSource& source) {
  auto env = [&](const std::string& name) {
    std::optional<std::string> v = source.get_env(name);
    return v.has_value() ? *v : std::string();
  };
  S3Config config;

  std::string profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string home = env("HOME");
  std::string credentials_path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (credentials_path.empty() && !home.empty()) credentials_path = home + "/.aws/credentials";
  std::string config_path = env("AWS_CONFIG_FILE");
  if (config_path.empty() && !home.empty()) config_path = home + "/.aws/config";

  Section credentials_section, config_section;
  if (!credentials_path.empty()) {
    QM_ASSIGN_OR_RETURN(std::string text, ReadOptionalFile(source, credentials_path));
    credentials_section = IniSection(text, profile);
  }
  if (!config_path.empty()) {
    QM_ASSIGN_OR_RETURN(std::string text, ReadOptionalFile(source, config_path));
    config_section = IniSection(text, profile == "default" ? "default" : "profile " + profile);
  }

  // Credentials: the first complete source.
  if (!env("AWS_ACCESS_KEY_ID").empty() && !env("AWS_SECRET_ACCESS_KEY").empty()) {
    config.access_key = env("AWS_ACCESS_KEY_ID");
    config.secret_key = env("AWS_SECRET_ACCESS_KEY");
    config.session_token = env("AWS_SESSION_TOKEN");
  } else {
    for (const Section* s : {&credentials_section, &config_section}) {
      if (!Get(*s, "aws_access_key_id").empty() && !Get(*s, "aws_secret_access_key").empty()) {
        config.access_key = Get(*s, "aws_access_key_id");
        config.secret_key = Get(*s, "aws_secret_access_key");
        config.session_token = Get(*s, "aws_session_token");
        break;
      }
    }
  }
  if (config.access_key.empty()) {
    return Status::InvalidArgument(
        "no S3 credentials",
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), "
        "or put aws_access_key_id and aws_secret_access_key in profile \"" +
            profile + "\" of " + (credentials_path.empty() ? "~/.aws/credentials" : credentials_path) +
            " (AWS_PROFILE selects the profile)");
  }

  config.region = env("AWS_REGION");
  if (config.region.empty()) config.region = env("AWS_DEFAULT_REGION");
  if (config.region.empty()) config.region = Get(config_section, "region");
  if (config.region.empty()) config.region = "us-east-1";

  std::string origin;
  if (endpoint_override.has_value() && !endpoint_override->empty()) {
    config.endpoint = *endpoint_override;
    origin = "the explicit endpoint";
  } else if (!env("AWS_ENDPOINT_URL_S3").empty()) {
    config.endpoint = env("AWS_ENDPOINT_URL_S3");
    origin = "AWS_ENDPOINT_URL_S3";
  } else if (!env("AWS_ENDPOINT_URL").empty()) {
    config.endpoint = env("AWS_ENDPOINT_URL");
    origin = "AWS_ENDPOINT_URL";
  } else if (!Get(config_section, "endpoint_url").empty()) {
    config.endpoint = Get(config_section, "endpoint_url");
    origin = "endpoint_url in " + config_path;
  }
  while (!config.endpoint.empty() && config.endpoint.back() == '/') config.endpoint.pop_back();
  if (config.endpoint.empty()) {
    config.endpoint = "https://s3." + config.region + ".amazonaws.com";
  } else {
    QM_RETURN_IF_ERROR(CheckEndpoint(config.endpoint, origin));
  }
  // Addressing: AWS and Aliyun OSS want the bucket in the host name (OSS
  // refuses path-style requests outright); MinIO, s3rver and most
  // self-hosted services only route path-style.
  const std::string style = env("QM_SNAP_S3_ADDRESSING");
  if (style == "path") {
    config.path_style = true;
  } else if (style == "virtual") {
    config.path_style = false;
  } else if (style == "cname") {
    config.endpoint_is_bucket = true;
  } else if (style.empty() || style == "auto") {
    config.path_style = !IsVirtualHostedService(config.endpoint);
  } else {
    return Status::InvalidArgument("QM_SNAP_S3_ADDRESSING=" + style, "must be path, virtual, cname or auto");
  }
  return config;
}

}  // namespace qm
