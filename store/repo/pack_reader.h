// PackReader: reads a pack's table of contents and its blobs.
//
// ReadBlob verifies, every time, that the decoded plaintext hashes to the
// requested id; a mismatch is Corruption naming the pack. Packs are
// untrusted input: all decoding is bounds-checked (core/pack_format.h).
//
// Thread-safety: ReadBlob and ReadToc are safe to call concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/pack_format.h"
#include "core/result.h"
#include "store/io/env.h"

namespace qm {

class PackReader {
 public:
  static Result<std::unique_ptr<PackReader>> Open(Env* env, const std::string& path, const Hash256& pack_id);

  const Hash256& id() const { return id_; }
  uint64_t size() const { return file_->Size(); }

  // Decodes and validates the trailer and table of contents.
  Result<std::vector<PackEntry>> ReadToc() const;

  // The stored bytes of one blob (still compressed).
  Status ReadStored(uint64_t offset, uint32_t stored_len, Bytes* out) const;
  // The same into `dst`, which holds at least stored_len bytes.
  Status ReadStoredTo(uint64_t offset, uint32_t stored_len, uint8_t* dst) const;

  // Reads, decompresses and verifies one blob. `raw_len`/`compression` come
  // from the index or the TOC.
  Status ReadBlob(const Hash256& id, uint64_t offset, uint32_t stored_len, uint32_t raw_len, Compression compression,
                  Bytes* out) const;

  // Decompresses and verifies one blob whose stored bytes the caller read
  // (for reads that cover several blobs at once).
  Status DecodeBlob(const Hash256& id, ByteView stored, uint32_t raw_len, Compression compression, Bytes* out) const;
  // The same into dst[0, raw_len), which the caller owns (contents
  // unspecified on failure).
  Status DecodeBlobTo(const Hash256& id, ByteView stored, uint32_t raw_len, Compression compression,
                      uint8_t* dst) const;

  // Whole-file read: header, every blob (decompressed and re-hashed), the
  // pack's own SHA-256 against its name. Returns the entries whose blobs
  // failed (empty when all is well); a structural failure is an error.
  Result<std::vector<PackEntry>> VerifyAll() const;

 private:
  PackReader(std::string path, Hash256 id, std::unique_ptr<RandomAccessFile> file)
      : path_(std::move(path)), id_(id), file_(std::move(file)) {}
  // Corruption unless [offset, offset + stored_len) lies inside the file.
  Status CheckStoredRange(uint64_t offset, uint32_t stored_len) const;
  std::string path_;
  Hash256 id_;
  std::unique_ptr<RandomAccessFile> file_;
};

}  // namespace qm
