// A database capture's page-fingerprint cache file (core/page_fingerprints.h,
// docs/format.md "Page fingerprints"), streamed: the next capture reads its
// parent's entries as its own chunks arrive, and writes its own as they are
// stored, so neither holds a list that grows with the database (~10 MB of
// record and ~9 MB of refs per GiB, where the rest of an hourly run is flat).
//
// Thread-safety: none; both are used by the archiver's producer thread.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/page_fingerprints.h"
#include "core/result.h"
#include "store/io/env.h"
#include "store/repo/cache_file_writer.h"
#include "store/repo/repository.h"

namespace qm {

// The parent capture's record, checked whole before any entry is used: its
// checksum, its page size and count, and that its refs hash to the parent's
// content id (so they are exactly the parent's chunk list). Then read again
// in pieces, each compared with the first pass (XXH3 per piece) before its
// entries are handed out: a piece that reads differently ends the reading
// (the rest of the chunks are hashed), it is never used.
class FingerprintFileReader {
 public:
  // nullptr when the file is absent, unreadable, torn, damaged, or not the
  // record of that capture: the cache is only a shortcut.
  static std::unique_ptr<FingerprintFileReader> Open(Repository* repo, const Hash256& key, const Hash256& content_id,
                                                     uint32_t page_size, uint64_t count);

  // Chunk k's entry: k = 0 at any time, the others in increasing order
  // (k = 1, 2, ...); nullopt for any other k, past the end, or once a piece
  // read differently.
  std::optional<PageFingerprintEntry> Get(uint64_t k);

 private:
  FingerprintFileReader(std::unique_ptr<RandomAccessFile> file, uint64_t count, PageFingerprintEntry first,
                        std::vector<uint64_t> piece_sums);
  bool LoadPiece(uint64_t piece);

  std::unique_ptr<RandomAccessFile> file_;
  const uint64_t count_;
  const PageFingerprintEntry first_;
  const std::vector<uint64_t> piece_sums_;  // XXH3-64 of each piece of entries, first pass
  Bytes piece_;
  uint64_t piece_index_ = ~uint64_t{0};
  uint64_t next_ = 1;  // the k the next Get(k > 0) must ask for
  bool failed_ = false;
};

// Writes the new capture's record: entries in the order its chunks are
// stored (chunk 0 whenever it comes, kept for the end), then Finish()
// reads the entries back to hash the refs in file order (the content id,
// which needs chunk 0 first, cannot be computed as they arrive), seals the
// record and renames it into place. The read-back is checked against an
// XXH3 kept while writing, because the content id it gives goes into the
// snapshot. Destroyed without Finish(), the old record stays.
class FingerprintFileWriter {
 public:
  static Result<std::unique_ptr<FingerprintFileWriter>> Create(Repository* repo, const Hash256& key,
                                                               uint32_t page_size);
  Status Add(const PageFingerprintEntry& e);     // chunks 1, 2, ... in order
  void SetFirst(const PageFingerprintEntry& e);  // chunk 0
  // REQUIRES: SetFirst called. Returns ContentIdOf the refs in file order.
  Result<Hash256> Finish();

 private:
  explicit FingerprintFileWriter(std::unique_ptr<CacheFileWriter> out) : out_(std::move(out)) {}
  Status Append(ByteView b);

  std::unique_ptr<CacheFileWriter> out_;
  Xxh3Hasher sum_;          // every byte appended
  Xxh3Hasher entries_sum_;  // the entries of chunks 1.. (what Finish reads back)
  std::optional<PageFingerprintEntry> first_;
  uint64_t added_ = 0;
  Bytes scratch_;
};

}  // namespace qm
