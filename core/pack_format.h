// The pack file format (docs/format.md, "Pack files"): encoder and decoder.
//
// A pack is  header | blob bytes ... | table of contents | trailer.
//   header   8 bytes   "QMPACK" 0x00 <version=1>
//   blobs    each blob's stored bytes (a zstd frame, or raw), back to back
//   TOC      entry_count fixed-size entries (kPackTocEntrySize bytes each):
//              type u8 | compression u8 | id 32 | offset u64le | stored_len u32le | raw_len u32le
//   trailer  24 bytes:  entry_count u32le | toc_xxh3 u64le | version u32le | "QMPKEND\0"
// The TOC is at the end so a pack can be streamed out and then described;
// it makes every pack self-describing, so the chunk index can always be
// rebuilt from the packs alone.
//
// Decoders treat input as hostile: every offset and length is checked
// against the pack size; a TOC entry that points outside the blob region,
// overlaps another, is out of order, or a checksum/magic/version mismatch is
// Corruption.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

enum class BlobType : uint8_t { kData = 1, kTree = 2, kList = 3 };  // kList: chunk-list block
enum class Compression : uint8_t { kNone = 0, kZstd = 1 };

// The one place that says which type bytes a decoder accepts.
constexpr bool IsKnownBlobType(uint8_t t) {
  return t >= static_cast<uint8_t>(BlobType::kData) && t <= static_cast<uint8_t>(BlobType::kList);
}

struct PackEntry {
  BlobType type = BlobType::kData;
  Compression compression = Compression::kNone;
  Hash256 id;           // SHA-256 of the blob's plaintext
  uint64_t offset = 0;  // from the start of the pack file
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;

  bool operator==(const PackEntry&) const = default;
};

inline constexpr uint32_t kPackFormatVersion = 1;
inline constexpr size_t kPackHeaderSize = 8;
inline constexpr size_t kPackTocEntrySize = 1 + 1 + 32 + 8 + 4 + 4;  // 50
inline constexpr size_t kPackTrailerSize = 24;
// Blobs are at most this large raw (bounds decompression of hostile input).
inline constexpr uint32_t kMaxBlobSize = 64u << 20;

Bytes EncodePackHeader();
// OK when `header` is exactly a valid v1 header.
Status DecodePackHeader(ByteView header);

// TOC followed by the trailer. REQUIRES: entries in ascending offset order.
Bytes EncodePackFooter(const std::vector<PackEntry>& entries);

struct PackTrailer {
  uint32_t entry_count = 0;
  uint64_t toc_checksum = 0;
  uint64_t toc_offset = 0;  // = pack_size - kPackTrailerSize - entry_count * kPackTocEntrySize
};

// `trailer` is the last kPackTrailerSize bytes of a pack of `pack_size` bytes.
Result<PackTrailer> DecodePackTrailer(ByteView trailer, uint64_t pack_size);

// `toc` is the entry_count * kPackTocEntrySize bytes at trailer.toc_offset.
// Verifies the checksum and every entry (bounds, order, no overlap, known
// type and compression, raw_len <= kMaxBlobSize, stored_len > 0 unless raw_len == 0).
Result<std::vector<PackEntry>> DecodePackToc(ByteView toc, const PackTrailer& trailer);

}  // namespace qm
