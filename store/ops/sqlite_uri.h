// SQLite URI for opening a private copy of a database read-only with
// immutable=1: no locks, and no -wal or -shm file is ever created beside it.
#pragma once

#include <string>

namespace qm {

// "file:PATH?immutable=1" with '%', '?' and '#' in PATH escaped. Open it
// with SQLITE_OPEN_READONLY | SQLITE_OPEN_URI.
inline std::string SqliteImmutableUri(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri += '%';
      uri += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
      uri += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace qm
