// Page fingerprints: one XXH3-64 per chunk of a database capture, with the
// capture's chunk refs, kept in a local cache file (R/cache/, never needed to
// restore) so that the next backup of the same database pays SHA-256, an
// index lookup and zstd only for chunks whose fingerprint changed, and does
// not have to read the parent's chunk list back from the packs (a 1 GiB
// database's list is ~22k blocks: 0.35-0.55 s of an hourly run).
//
// Comparison is positional: with kDatabaseChunking a chunk covers a fixed
// page range, so chunk k of the new capture is compared only with chunk k of
// the parent capture (same length, same fingerprint, same page size). A
// false match then needs a changed page whose 64-bit fingerprint equals its
// old value: ~2^-64 per changed chunk, about 2e-16 for an hour that changes
// 4,000 pages. `--force-read` (the guide's daily full) bypasses the cache.
//
// Format (docs/format.md, "Page fingerprints"), version 3:
//   "QMFP" | version u8 = 3 | page_size u32le
//   | count x (fingerprint u64le | chunk id 32 | raw_len u32le)
//   | count u64le | content_id 32 | XXH3-64 u64le of every byte before it
// The entries are in the order a capture produces its chunks: chunks 1 to
// count-1 in file order, then chunk 0 (page 1, which SQLite writes last).
// So a capture writes the file as its chunks are stored, and the next one
// reads it as its own chunks arrive: neither holds the list (~9 MB per GiB
// of database). The count and content id come last because they are known
// last.
//
// The decoders treat their input as hostile. They do not know the parent's
// chunk list: the caller checks that the refs hash to the capture's content
// id (ContentIdOf).
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"
#include "core/tree.h"

namespace qm {

inline constexpr uint8_t kPageFingerprintsVersion = 3;
inline constexpr size_t kPageFingerprintsHeaderSize = 9;    // magic, version, page size
inline constexpr size_t kPageFingerprintEntrySize = 44;     // fingerprint, chunk id, raw length
inline constexpr size_t kPageFingerprintsTrailerSize = 48;  // count, content id, checksum

struct PageFingerprintEntry {
  uint64_t fingerprint = 0;  // XXH3-64 of the chunk's bytes
  ChunkRef ref;
  bool operator==(const PageFingerprintEntry&) const = default;
};

// A whole record in memory, chunks in file order (tests and tools; the
// archiver streams the pieces below).
struct PageFingerprints {
  Hash256 content_id;  // of the capture they describe (its tree node's content_id)
  uint32_t page_size = 0;
  std::vector<uint64_t> chunks;  // XXH3-64 of each chunk, in file order
  std::vector<ChunkRef> refs;    // the capture's chunks, same length

  bool operator==(const PageFingerprints&) const = default;
};

Bytes EncodePageFingerprints(const PageFingerprints& fp);
Result<PageFingerprints> DecodePageFingerprints(ByteView data);

// The pieces, for a writer and a reader that never hold the whole record.
// A writer feeds every byte it appends to an Xxh3Hasher; the trailer seals
// them.
void PutPageFingerprintsHeader(Bytes* out, uint32_t page_size);
void PutPageFingerprintEntry(Bytes* out, const PageFingerprintEntry& e);
// Appends count and content id, feeds them to `sum`, then appends the checksum.
void PutPageFingerprintsTrailer(Bytes* out, uint64_t count, const Hash256& content_id, Xxh3Hasher* sum);

// The page size, from exactly kPageFingerprintsHeaderSize bytes.
Result<uint32_t> DecodePageFingerprintsHeader(ByteView header);
// Exactly kPageFingerprintEntrySize bytes; any such bytes are an entry.
PageFingerprintEntry DecodePageFingerprintEntry(ByteView entry);
struct PageFingerprintsTrailer {
  uint64_t count = 0;
  Hash256 content_id;
  uint64_t checksum = 0;  // XXH3-64 of the file's bytes before it
};
// Exactly kPageFingerprintsTrailerSize bytes of a file of `file_size`
// bytes; Corruption unless `count` entries are exactly what lies between
// header and trailer.
Result<PageFingerprintsTrailer> DecodePageFingerprintsTrailer(ByteView trailer, uint64_t file_size);

}  // namespace qm
