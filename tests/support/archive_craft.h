// Hand-made export archives for the tests that feed qm-snap hostile input.
#pragma once

#include <string>

namespace qm {

// Builds DIR/20250129_143022.tar.gz (or .tar.zst when `compress` starts with
// "zstd") from a Python description of its entries, with a correct
// 20250129_143022.sha256 beside it, so only the named defect is wrong.
// `entries` is Python code that may call
//   add(name, data=b'', type=tarfile.REGTYPE, link='')   one tar entry
//   info([(path, bytes), ...])                           backup_info.json listing them
// The top folder 20250129_143022/ is added first. Returns the archive's path.
std::string CraftArchive(const std::string& dir, const std::string& entries, const std::string& compress = "gzip -n");

}  // namespace qm
