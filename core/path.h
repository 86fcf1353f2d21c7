// Path strings as qm-snap handles them ('/'-separated, relative to a source
// or snapshot root). Pure string functions: no file system access.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qm {

// The components of `path`. Empty components ("a//b", a leading or trailing
// '/') are dropped, unless `keep_empty`, which hostile-input checks need
// to see them.
std::vector<std::string> SplitPath(std::string_view path, bool keep_empty = false);

// Whether glob `pattern` (fnmatch(3), '*' also matching '/') matches `rel`
// or its base name: "*.db", "config.yaml" and "logs/*" all work.
bool GlobMatchesPathOrName(const std::string& pattern, const std::string& rel);

}  // namespace qm
