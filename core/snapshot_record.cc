#include "core/snapshot_record.h"

#include <cstring>
#include <string>

#include "core/coding.h"

namespace qm {

namespace {
constexpr char kSnapMagic[6] = {'Q', 'M', 'S', 'N', 'A', 'P'};
constexpr size_t kMaxText = 4096;
constexpr size_t kMaxTags = 256;
Status Bad(const std::string& what) {
  return Status::Corruption("snapshot record: " + what);
}
}  // namespace

Bytes EncodeSnapshotRecord(const SnapshotRecord& rec) {
  Bytes out(kSnapMagic, kSnapMagic + 6);
  out.push_back(kSnapshotFormatVersion);
  PutVarsint64(&out, rec.time_unix);
  PutVarint64(&out, rec.time_nanos);
  PutLengthPrefixed(&out, std::string_view(rec.hostname));
  PutLengthPrefixed(&out, std::string_view(rec.username));
  PutLengthPrefixed(&out, std::string_view(rec.source));
  PutVarint64(&out, rec.tags.size());
  for (const std::string& t : rec.tags) PutLengthPrefixed(&out, std::string_view(t));
  out.push_back(rec.parent ? 1 : 0);
  if (rec.parent) PutBytes(&out, rec.parent->View());
  PutBytes(&out, rec.root_tree.View());
  const SnapshotTotals& t = rec.totals;
  for (uint64_t v : {t.files, t.dirs, t.bytes_logical, t.bytes_read, t.bytes_added, t.chunks_total, t.chunks_new})
    PutVarint64(&out, v);
  PutVarint64(&out, rec.flags);
  PutLengthPrefixed(&out, std::string_view(rec.program_version));
  return out;
}

Result<SnapshotRecord> DecodeSnapshotRecord(ByteView data) {
  if (data.size() < 7 || std::memcmp(data.data(), kSnapMagic, 6) != 0) return Bad("bad magic");
  if (data[6] != kSnapshotFormatVersion) return Bad("unsupported version " + std::to_string(data[6]));
  ByteReader r(data.subspan(7));
  SnapshotRecord rec;
  uint64_t ntags;
  if (!r.ReadVarsint64(&rec.time_unix) || !r.ReadVarint32(&rec.time_nanos, 999999999) ||
      !r.ReadLengthPrefixed(&rec.hostname, kMaxText) || !r.ReadLengthPrefixed(&rec.username, kMaxText) ||
      !r.ReadLengthPrefixed(&rec.source, kMaxText) || !r.ReadVarint64(&ntags) || ntags > kMaxTags)
    return Bad("truncated or malformed header fields");
  rec.tags.resize(static_cast<size_t>(ntags));
  for (size_t i = 0; i < rec.tags.size(); i++) {
    if (!r.ReadLengthPrefixed(&rec.tags[i], kMaxText)) return Bad("truncated tag");
    if (i > 0 && !(rec.tags[i - 1] < rec.tags[i])) return Bad("tags not sorted or not unique");
  }
  uint8_t has_parent;
  if (!r.ReadU8(&has_parent) || has_parent > 1) return Bad("bad parent flag");
  if (has_parent) {
    Hash256 parent;
    if (!r.ReadHash256(&parent)) return Bad("truncated parent id");
    rec.parent = parent;
  }
  if (!r.ReadHash256(&rec.root_tree)) return Bad("truncated root tree id");
  SnapshotTotals& t = rec.totals;
  for (uint64_t* p :
       {&t.files, &t.dirs, &t.bytes_logical, &t.bytes_read, &t.bytes_added, &t.chunks_total, &t.chunks_new})
    if (!r.ReadVarint64(p)) return Bad("truncated totals");
  if (!r.ReadVarint32(&rec.flags) || !r.ReadLengthPrefixed(&rec.program_version, kMaxText))
    return Bad("truncated trailer fields");
  if (!r.empty()) return Bad("trailing bytes");
  return rec;
}

}  // namespace qm
