#include "store/repo/repo_layout.h"

namespace qm {

std::optional<Hash256> RepoLayout::ParsePackFileName(const std::string& name) {
  constexpr std::string_view kSuffix = ".pack";
  if (name.size() != 64 + kSuffix.size() || name.compare(64, kSuffix.size(), kSuffix) != 0) return std::nullopt;
  return Hash256::FromHex(std::string_view(name).substr(0, 64));
}

std::optional<Hash256> RepoLayout::ParseSnapshotFileName(const std::string& name) {
  if (name.size() != 64) return std::nullopt;
  return Hash256::FromHex(name);
}

}  // namespace qm
