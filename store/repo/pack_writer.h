// PackWriter: builds one pack file in R/tmp/ and, on Seal(), makes it a
// durable, immutable member of R/packs/.
//
// Durability: on OK from Seal() the pack has been written, fsynced, renamed
// to packs/XX/<id>.pack and its directory fsynced, so the returned entries may
// be indexed. On any failure nothing under packs/ changed (a temporary may
// remain in tmp/; the next writer removes it) and the writer must not be used
// again.
//
// Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/pack_format.h"
#include "core/result.h"
#include "store/io/env.h"
#include "store/repo/repo_layout.h"

namespace qm {

struct SealedPack {
  Hash256 id;  // SHA-256 of the whole pack file
  uint64_t size = 0;
  std::vector<PackEntry> entries;
};

class PackWriter {
 public:
  // `tmp_name` must be unique among live writers of this repository.
  PackWriter(Env* env, const RepoLayout* layout, std::string tmp_name);
  ~PackWriter();

  // Appends one blob's stored bytes (already compressed, or raw).
  Status Add(BlobType type, const Hash256& id, Compression compression, uint32_t raw_len, ByteView stored);
  struct Member {
    Hash256 id;
    uint32_t raw_len = 0;
  };
  // Appends one zstd frame whose plaintext is the members' bytes back to
  // back (a shared frame; docs/format.md, "Pack files"). REQUIRES: the
  // frame decodes to the sum of the raw_lens, at most kMaxSharedFrameSize.
  Status AddSharedFrame(BlobType type, const std::vector<Member>& members, ByteView frame);

  bool empty() const { return entries_.empty(); }
  // Bytes written so far (header and blobs).
  uint64_t size() const { return offset_; }
  size_t count() const { return entries_.size(); }

  Result<SealedPack> Seal();

 private:
  Status Open();
  Status Write(ByteView data);
  Status FlushBuffer();

  Env* env_;
  const RepoLayout* layout_;
  std::string tmp_path_;
  std::unique_ptr<WritableFile> file_;
  Sha256Hasher hasher_;
  uint64_t offset_ = 0;
  std::vector<PackEntry> entries_;
  // Blobs are a few KiB each (one database page compressed); a write(2) per
  // blob under the repository's write lock serialised the workers. Writes go
  // out in pieces of up to 1 MiB (a larger blob goes out alone); nothing is
  // durable before Seal() anyway.
  Bytes buffer_;
  bool failed_ = false;
};

}  // namespace qm
