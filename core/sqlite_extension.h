// Node extension tag 1: how a SQLite database in a snapshot was captured
// (docs/format.md, "SQLite capture extension"). Written for every database
// read through SQLite; used by the next backup to prove the database
// unchanged without reading it. Decoder treats input as hostile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace qm {

inline constexpr uint32_t kExtSqliteCapture = 1;

struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  bool operator==(const FileStamp&) const = default;
};

struct SqliteCaptureExt {
  uint32_t page_size = 0;
  uint64_t page_count = 0;
  int64_t data_version = 0;
  bool wal = false;
  // PRAGMA quick_check of this capture's state: "ok" when it passed, ""
  // when it was not run (the backup's check interval had not elapsed).
  std::string quick_check;
  uint64_t read_hold_us = 0;
  FileStamp main;                     // the database file, stat()ed before the read transaction began
  std::optional<FileStamp> wal_file;  // its -wal file then, if any
  int64_t stamped_at_ns = 0;          // when those stats were taken
  // When the newest passing quick_check of this database ran: this
  // capture's (then its stamped_at_ns) or, when it ran none, the one its
  // parent recorded; 0 when none is known. Version 2; a version 1 record
  // decodes with stamped_at_ns if its check passed (it always ran one).
  int64_t last_check_ns = 0;
  bool operator==(const SqliteCaptureExt&) const = default;
};

// What operators read for a quick_check result: the result, or "not run".
inline std::string QuickCheckText(const std::string& result) {
  return result.empty() ? "not run" : result;
}

Bytes EncodeSqliteCaptureExt(const SqliteCaptureExt& ext);
Result<SqliteCaptureExt> DecodeSqliteCaptureExt(ByteView data);

}  // namespace qm
