#include "core/path.h"

#include <fnmatch.h>

namespace qm {

std::vector<std::string> SplitPath(std::string_view path, bool keep_empty) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (keep_empty || end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool GlobMatchesPathOrName(const std::string& pattern, const std::string& rel) {
  const size_t slash = rel.rfind('/');
  const char* base = rel.c_str() + (slash == std::string::npos ? 0 : slash + 1);
  return fnmatch(pattern.c_str(), rel.c_str(), 0) == 0 || fnmatch(pattern.c_str(), base, 0) == 0;
}

}  // namespace qm
