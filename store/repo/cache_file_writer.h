// CacheFileWriter: a local cache file (R/cache/<key>) written in pieces, for
// records too large to hold whole (a database's page fingerprints: ~10 MB
// per GiB).
//
// Durability: like Repository::PutCacheRecord, never synced. Appends go to
// a temporary in R/tmp/; Commit() renames it over the cache file, so a
// reader sees the old file or the new one (or, after a crash, possibly a
// torn new one: cache formats carry a checksum). Destroyed without a
// successful Commit(), the temporary is removed and the old file stays.
//
// Thread-safety: none; one writer (the repository's lock holder).
#pragma once

#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "store/io/env.h"

namespace qm {

class CacheFileWriter {
 public:
  CacheFileWriter(Env* env, std::string tmp, std::string path, std::unique_ptr<WritableFile> file);
  ~CacheFileWriter();
  CacheFileWriter(const CacheFileWriter&) = delete;
  CacheFileWriter& operator=(const CacheFileWriter&) = delete;

  // Buffered; an error is sticky (every later call returns it).
  Status Append(ByteView data);
  // The bytes appended so far, for reading back before Commit() (the
  // writer may go on appending after).
  Result<std::unique_ptr<RandomAccessFile>> ReadBack();
  Status Commit();

 private:
  Status FlushBuffer();

  Env* env_;
  const std::string tmp_;
  const std::string path_;
  std::unique_ptr<WritableFile> file_;
  Bytes buf_;
  Status error_;
  bool committed_ = false;
};

}  // namespace qm
