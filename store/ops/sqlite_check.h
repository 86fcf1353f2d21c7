// SQLite on a database file that no one else has open (a private copy, an
// extracted archive, a just-restored file): opened read-only with
// immutable=1, so no lock is taken and no -wal or -shm is ever created.
#pragma once

#include <string>

namespace qm {

// "file:PATH?immutable=1" with '%', '?' and '#' in PATH escaped. Open it
// with SQLITE_OPEN_READONLY | SQLITE_OPEN_URI.
std::string SqliteImmutableUri(const std::string& path);

// PRAGMA integrity_check: "ok", or SQLite's first message (or why the file
// could not be opened).
std::string IntegrityCheckFile(const std::string& path);

}  // namespace qm
