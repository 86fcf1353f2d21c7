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

  // Reads, decompresses and verifies one blob. `blob` comes from the index
  // or the TOC.
  //
  // A shared frame is decompressed whole; the calling thread keeps the
  // last four it decompressed (each at most kMaxSharedFrameSize bytes, with
  // its stored bytes), so a frame's other blobs cost the read, a
  // comparison, a copy and their SHA-256.
  Status ReadBlob(const Hash256& id, const StoredBlob& blob, Bytes* out) const;

  // Decompresses and verifies one blob whose stored frame (`frame`: the
  // bytes at [blob.offset, blob.offset + blob.stored_len)) the caller read,
  // for reads that cover several blobs at once. REQUIRES: `frame` was read
  // with ReadStored/ReadStoredTo of a reader of this pack, and not changed
  // since (a shared frame decoded from the same buffer with no read on this
  // thread in between is taken from the thread's frames without comparing).
  Status DecodeBlob(const Hash256& id, ByteView frame, const StoredBlob& blob, Bytes* out) const;
  // The same into dst[0, blob.raw_len), which the caller owns (contents
  // unspecified on failure).
  Status DecodeBlobTo(const Hash256& id, ByteView frame, const StoredBlob& blob, uint8_t* dst) const;

  // Whole-file read: header, every blob (decompressed and re-hashed), the
  // pack's own SHA-256 against its name. Returns the entries whose blobs
  // failed (empty when all is well); a structural failure is an error.
  Result<std::vector<PackEntry>> VerifyAll() const;

 private:
  PackReader(std::string path, Hash256 id, std::unique_ptr<RandomAccessFile> file)
      : path_(std::move(path)), id_(id), file_(std::move(file)) {}
  // Corruption unless [offset, offset + stored_len) lies inside the file.
  Status CheckStoredRange(uint64_t offset, uint32_t stored_len) const;
  // The plaintext of the shared frame `blob` is in (`frame`: its stored
  // bytes), from the thread's last decompressed frame when that was these
  // bytes, else by decompressing `frame`. Valid until the thread's next call.
  // REQUIRES: SharedFrameProblem(blob) is null and blob.shared_frame().
  Result<ByteView> SharedFramePlaintext(ByteView frame, const StoredBlob& blob) const;
  std::string path_;
  Hash256 id_;
  std::unique_ptr<RandomAccessFile> file_;
};

}  // namespace qm
