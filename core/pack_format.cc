#include "core/pack_format.h"

#include <cstring>
#include <string>

#include "core/coding.h"

namespace qm {

namespace {
constexpr char kHeaderMagic[6] = {'Q', 'M', 'P', 'A', 'C', 'K'};
constexpr char kTrailerMagic[8] = {'Q', 'M', 'P', 'K', 'E', 'N', 'D', '\0'};
}  // namespace

const char* SharedFrameProblem(const StoredBlob& blob) {
  if (!blob.shared_frame()) return blob.raw_offset == 0 ? nullptr : "offset into a frame the blob does not share";
  if (blob.compression != Compression::kZstd) return "a shared frame that is not zstd";
  if (blob.frame_raw_len > kMaxSharedFrameSize) return "shared frame larger than the maximum";
  if (blob.raw_offset > blob.frame_raw_len || blob.raw_len > blob.frame_raw_len - blob.raw_offset)
    return "blob extends past the end of its shared frame";
  return nullptr;
}

Bytes EncodePackHeader() {
  Bytes out(kHeaderMagic, kHeaderMagic + 6);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(kPackFormatVersion));
  return out;
}

Status DecodePackHeader(ByteView header) {
  if (header.size() != kPackHeaderSize || std::memcmp(header.data(), kHeaderMagic, 6) != 0 || header[6] != 0)
    return Status::Corruption("not a qm-snap pack (bad header magic)");
  if (!IsReadablePackVersion(header[7]))
    return Status::Corruption("unsupported pack format version " + std::to_string(header[7]));
  return Status::OK();
}

Bytes EncodePackFooter(const std::vector<PackEntry>& entries) {
  Bytes out;
  out.reserve(entries.size() * PackTocEntrySize(kPackFormatVersion) + kPackTrailerSize);
  for (const PackEntry& e : entries) {
    out.push_back(static_cast<uint8_t>(e.type));
    out.push_back(static_cast<uint8_t>(e.compression));
    PutBytes(&out, e.id.View());
    PutFixed64(&out, e.offset);
    PutFixed32(&out, e.stored_len);
    PutFixed32(&out, e.raw_len);
    PutFixed32(&out, e.frame_raw_len);
    PutFixed32(&out, e.raw_offset);
  }
  uint64_t checksum = Xxh3_64(ByteView(out.data(), out.size()));
  PutFixed32(&out, static_cast<uint32_t>(entries.size()));
  PutFixed64(&out, checksum);
  PutFixed32(&out, kPackFormatVersion);
  out.insert(out.end(), kTrailerMagic, kTrailerMagic + 8);
  return out;
}

Result<PackTrailer> DecodePackTrailer(ByteView trailer, uint64_t pack_size) {
  if (trailer.size() != kPackTrailerSize) return Status::Corruption("pack trailer has the wrong size");
  if (pack_size < kPackHeaderSize + kPackTrailerSize) return Status::Corruption("pack is too short to be a pack");
  if (std::memcmp(trailer.data() + 16, kTrailerMagic, 8) != 0)
    return Status::Corruption("pack trailer magic missing (truncated or not a pack)");
  PackTrailer t;
  t.entry_count = DecodeFixed32(trailer.data());
  t.toc_checksum = DecodeFixed64(trailer.data() + 4);
  t.version = DecodeFixed32(trailer.data() + 12);
  if (!IsReadablePackVersion(t.version))
    return Status::Corruption("unsupported pack format version " + std::to_string(t.version));
  const uint64_t toc_size = t.toc_size();
  if (toc_size > pack_size - kPackHeaderSize - kPackTrailerSize)
    return Status::Corruption("pack trailer claims " + std::to_string(t.entry_count) +
                              " entries, more than the pack can hold");
  t.toc_offset = pack_size - kPackTrailerSize - toc_size;
  return t;
}

Result<std::vector<PackEntry>> DecodePackToc(ByteView toc, const PackTrailer& trailer) {
  if (!IsReadablePackVersion(trailer.version))
    return Status::Corruption("unsupported pack format version " + std::to_string(trailer.version));
  if (toc.size() != trailer.toc_size()) return Status::Corruption("pack table of contents has the wrong size");
  if (Xxh3_64(toc) != trailer.toc_checksum) return Status::Corruption("pack table of contents checksum mismatch");
  std::vector<PackEntry> entries;
  entries.reserve(trailer.entry_count);
  ByteReader r(toc);
  uint64_t next_free = kPackHeaderSize;
  for (uint32_t i = 0; i < trailer.entry_count; i++) {
    PackEntry e;
    uint8_t type, comp;
    if (!r.ReadU8(&type) || !r.ReadU8(&comp) || !r.ReadHash256(&e.id) || !r.ReadFixed64(&e.offset) ||
        !r.ReadFixed32(&e.stored_len) || !r.ReadFixed32(&e.raw_len) ||
        (trailer.version >= 2 && (!r.ReadFixed32(&e.frame_raw_len) || !r.ReadFixed32(&e.raw_offset))))
      return Status::Corruption("pack table of contents is truncated");
    std::string where = "pack entry " + std::to_string(i);
    if (!IsKnownBlobType(type)) return Status::Corruption(where, "unknown blob type " + std::to_string(type));
    if (comp != static_cast<uint8_t>(Compression::kNone) && comp != static_cast<uint8_t>(Compression::kZstd))
      return Status::Corruption(where, "unknown compression " + std::to_string(comp));
    e.type = static_cast<BlobType>(type);
    e.compression = static_cast<Compression>(comp);
    if (e.raw_len > kMaxBlobSize) return Status::Corruption(where, "raw length exceeds the maximum blob size");
    if (e.stored_len == 0 && e.raw_len != 0)
      return Status::Corruption(where, "empty stored bytes for a non-empty blob");
    if (e.compression == Compression::kNone && e.stored_len != e.raw_len)
      return Status::Corruption(where, "uncompressed blob with stored length != raw length");
    if (const char* problem = SharedFrameProblem(StoredBlobOf(e))) return Status::Corruption(where, problem);
    const PackEntry* prev = entries.empty() ? nullptr : &entries.back();
    if (prev && prev->shared_frame() && e.shared_frame() && e.offset == prev->offset) {
      // Another member of the previous entry's frame.
      if (e.stored_len != prev->stored_len || e.frame_raw_len != prev->frame_raw_len)
        return Status::Corruption(where, "members of one shared frame disagree on its size");
      if (e.raw_offset < prev->raw_offset + prev->raw_len)
        return Status::Corruption(where, "overlaps the previous blob of its shared frame");
      entries.push_back(e);
      continue;
    }
    if (e.offset < next_free) return Status::Corruption(where, "offset overlaps the previous blob or the header");
    if (e.offset > trailer.toc_offset || e.stored_len > trailer.toc_offset - e.offset)
      return Status::Corruption(where, "points outside the pack's blob region");
    next_free = e.offset + e.stored_len;
    entries.push_back(e);
  }
  return entries;
}

}  // namespace qm
