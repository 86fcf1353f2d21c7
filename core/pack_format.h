// The pack file format (docs/format.md, "Pack files"): encoder and decoder.
//
// A pack is  header | blob bytes ... | table of contents | trailer.
//   header   8 bytes   "QMPACK" 0x00 <version: 1 or 2>
//   blobs    stored frames (zstd, or raw), back to back; in version 2 one
//            zstd frame may hold several small blobs (a shared frame)
//   TOC      entry_count fixed-size entries (PackTocEntrySize(version) bytes each):
//              type u8 | compression u8 | id 32 | offset u64le | stored_len u32le | raw_len u32le
//              version 2 adds: frame_raw_len u32le | raw_offset u32le
//   trailer  24 bytes:  entry_count u32le | toc_xxh3 u64le | version u32le | "QMPKEND\0"
// Writers write version 2; version 1 packs (no shared frames) stay readable.
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
  Hash256 id;               // SHA-256 of the blob's plaintext
  uint64_t offset = 0;      // from the start of the pack file
  uint32_t stored_len = 0;  // of the whole frame when it is shared
  uint32_t raw_len = 0;
  // A shared frame (version 2): the blob is plaintext bytes
  // [raw_offset, raw_offset + raw_len) of a zstd frame of frame_raw_len
  // bytes that other blobs share (same offset and stored_len). 0: the frame
  // holds this blob alone (and raw_offset is 0).
  uint32_t frame_raw_len = 0;
  uint32_t raw_offset = 0;

  bool shared_frame() const { return frame_raw_len != 0; }
  bool operator==(const PackEntry&) const = default;
};

// How one blob is stored, as a reader needs it: the frame at
// [offset, offset + stored_len) of its pack and, for a shared frame, where
// the blob lies in the frame's plaintext (fields as in PackEntry).
struct StoredBlob {
  uint64_t offset = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
  uint32_t frame_raw_len = 0;
  uint32_t raw_offset = 0;
  Compression compression = Compression::kNone;
  bool shared_frame() const { return frame_raw_len != 0; }
};

inline StoredBlob StoredBlobOf(const PackEntry& e) {
  return StoredBlob{e.offset, e.stored_len, e.raw_len, e.frame_raw_len, e.raw_offset, e.compression};
}

// The one place that says where a blob may lie in its frame: nullptr when
// `blob` is alone in its frame at raw_offset 0, or is a zstd slice inside a
// shared frame of at most kMaxSharedFrameSize bytes; else what is wrong.
// Used by the TOC decoder, the index's decoder and the reader alike.
const char* SharedFrameProblem(const StoredBlob& blob);

inline constexpr uint32_t kPackFormatVersion = 2;  // what writers write
constexpr bool IsReadablePackVersion(uint32_t v) {
  return v == 1 || v == kPackFormatVersion;
}
inline constexpr size_t kPackHeaderSize = 8;
inline constexpr size_t kPackTrailerSize = 24;
// Blobs are at most this large raw (bounds decompression of hostile input).
inline constexpr uint32_t kMaxBlobSize = 64u << 20;
// A shared frame's plaintext is at most this large (writers put up to
// 64 KiB of small blobs in one; the bound keeps a hostile pack from making
// a reader decompress 64 MiB to get at one page).
inline constexpr uint32_t kMaxSharedFrameSize = 1u << 20;

// 50 bytes for version 1, 58 for version 2.
constexpr size_t PackTocEntrySize(uint32_t version) {
  return version >= 2 ? 58 : 50;
}

Bytes EncodePackHeader();
// OK when `header` is exactly a valid header of a version this build reads.
Status DecodePackHeader(ByteView header);

// TOC followed by the trailer, in the current version. REQUIRES: entries in
// ascending offset order, members of a shared frame together and in
// ascending raw_offset order.
Bytes EncodePackFooter(const std::vector<PackEntry>& entries);

struct PackTrailer {
  uint32_t entry_count = 0;
  uint64_t toc_checksum = 0;
  uint32_t version = 0;
  uint64_t toc_offset = 0;  // = pack_size - kPackTrailerSize - toc_size()
  uint64_t toc_size() const { return static_cast<uint64_t>(entry_count) * PackTocEntrySize(version); }
};

// `trailer` is the last kPackTrailerSize bytes of a pack of `pack_size` bytes.
Result<PackTrailer> DecodePackTrailer(ByteView trailer, uint64_t pack_size);

// `toc` is the trailer.toc_size() bytes at trailer.toc_offset.
// Verifies the checksum and every entry (bounds, order, no overlap, known
// type and compression, raw_len <= kMaxBlobSize, stored_len > 0 unless
// raw_len == 0; a shared frame's members agree on offset, stored_len and
// frame_raw_len, are zstd, and cover disjoint ascending ranges inside
// frame_raw_len <= kMaxSharedFrameSize).
Result<std::vector<PackEntry>> DecodePackToc(ByteView toc, const PackTrailer& trailer);

}  // namespace qm
