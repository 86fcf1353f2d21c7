#include "core/repo_config.h"

#include <bit>
#include <charconv>
#include <map>
#include <string>

#include "core/pack_format.h"

namespace qm {

namespace {
constexpr std::string_view kFirstLinePrefix = "qm-snap repository v";
Status Bad(const std::string& what) {
  return Status::Corruption("repository config: " + what);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool ParseU64(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}
}  // namespace

std::string EncodeRepoConfig(const RepoConfig& cfg) {
  std::string s(kFirstLinePrefix);
  s += std::to_string(cfg.version);
  s += "\nrepo_id = " + cfg.repo_id.Hex();
  s += "\nchunker_min = " + std::to_string(cfg.chunker.min_size);
  s += "\nchunker_avg = " + std::to_string(cfg.chunker.avg_size);
  s += "\nchunker_max = " + std::to_string(cfg.chunker.max_size);
  s += "\nzstd_level = " + std::to_string(cfg.zstd_level);
  s += "\npack_target_size = " + std::to_string(cfg.pack_target_size);
  s += "\n";
  return s;
}

Result<RepoConfig> DecodeRepoConfig(ByteView data) {
  if (data.size() > 64 * 1024) return Bad("file is too large");
  std::string_view text = AsString(data);
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos || !text.starts_with(kFirstLinePrefix))
    return Bad("not a qm-snap repository config");
  const std::string_view first = Trim(text.substr(0, nl));
  uint64_t version = 0;
  if (!ParseU64(first.substr(kFirstLinePrefix.size()), &version) || version < kRepoVersionOldest ||
      version > kRepoVersionCurrent) {
    return Bad("unsupported repository version (first line \"" + std::string(first) + "\"; this qm-snap reads v" +
               std::to_string(kRepoVersionOldest) + " to v" + std::to_string(kRepoVersionCurrent) + ")" +
               (version > kRepoVersionCurrent ? ": it was written by a newer qm-snap" : ""));
  }
  std::map<std::string, std::string, std::less<>> kv;
  text.remove_prefix(nl + 1);
  while (!text.empty()) {
    nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Bad("line without '=': \"" + std::string(line) + "\"");
    std::string key(Trim(line.substr(0, eq)));
    if (kv.count(key)) return Bad("duplicate key " + key);
    kv[key] = std::string(Trim(line.substr(eq + 1)));
  }
  RepoConfig cfg;
  cfg.version = static_cast<uint32_t>(version);
  auto num = [&](const char* key, uint64_t lo, uint64_t hi, uint64_t* out) -> Status {
    auto it = kv.find(key);
    if (it == kv.end()) return Bad(std::string("missing key ") + key);
    if (!ParseU64(it->second, out) || *out < lo || *out > hi) return Bad(std::string("bad value for ") + key);
    kv.erase(it);
    return Status::OK();
  };
  auto it = kv.find("repo_id");
  if (it == kv.end()) return Bad("missing key repo_id");
  auto id = Hash256::FromHex(it->second);
  if (!id) return Bad("bad value for repo_id");
  cfg.repo_id = *id;
  kv.erase(it);
  uint64_t mn, avg, mx, lvl, pack;
  QM_RETURN_IF_ERROR(num("chunker_min", 64, kMaxBlobSize, &mn));
  QM_RETURN_IF_ERROR(num("chunker_avg", 128, kMaxBlobSize, &avg));
  QM_RETURN_IF_ERROR(num("chunker_max", 256, kMaxBlobSize, &mx));
  QM_RETURN_IF_ERROR(num("zstd_level", 1, 19, &lvl));
  QM_RETURN_IF_ERROR(num("pack_target_size", 1u << 20, 1u << 30, &pack));
  if (!kv.empty()) return Bad("unknown key " + kv.begin()->first + " (written by a newer qm-snap?)");
  if (!(mn < avg && avg < mx) || !std::has_single_bit(avg))
    return Bad("chunker sizes must satisfy min < avg < max, avg a power of two");
  cfg.chunker = {static_cast<uint32_t>(mn), static_cast<uint32_t>(avg), static_cast<uint32_t>(mx)};
  cfg.zstd_level = static_cast<int>(lvl);
  cfg.pack_target_size = pack;
  return cfg;
}

}  // namespace qm
