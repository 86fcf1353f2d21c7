#include "core/sqlite_extension.h"

#include "core/coding.h"

namespace qm {

namespace {
constexpr uint8_t kVersion = 2;  // 2 added last_check_ns

void PutStamp(Bytes* out, const FileStamp& s) {
  PutVarint64(out, s.size);
  PutVarsint64(out, s.mtime_ns);
  PutVarsint64(out, s.ctime_ns);
  PutVarint64(out, s.inode);
}
bool ReadStamp(ByteReader* r, FileStamp* s) {
  return r->ReadVarint64(&s->size) && r->ReadVarsint64(&s->mtime_ns) && r->ReadVarsint64(&s->ctime_ns) &&
         r->ReadVarint64(&s->inode);
}
}  // namespace

Bytes EncodeSqliteCaptureExt(const SqliteCaptureExt& e) {
  Bytes out;
  out.push_back(kVersion);
  PutVarint64(&out, e.page_size);
  PutVarint64(&out, e.page_count);
  PutVarsint64(&out, e.data_version);
  out.push_back(e.wal ? 1 : 0);
  PutLengthPrefixed(&out, std::string_view(e.quick_check));
  PutVarint64(&out, e.read_hold_us);
  PutStamp(&out, e.main);
  out.push_back(e.wal_file ? 1 : 0);
  if (e.wal_file) PutStamp(&out, *e.wal_file);
  PutVarsint64(&out, e.stamped_at_ns);
  PutVarsint64(&out, e.last_check_ns);
  return out;
}

Result<SqliteCaptureExt> DecodeSqliteCaptureExt(ByteView data) {
  ByteReader r(data);
  SqliteCaptureExt e;
  uint8_t version, wal, has_wal;
  if (!r.ReadU8(&version) || version < 1 || version > kVersion)
    return Status::Corruption("sqlite capture extension: bad version");
  if (!r.ReadVarint32(&e.page_size, 65536) || !r.ReadVarint64(&e.page_count) || !r.ReadVarsint64(&e.data_version) ||
      !r.ReadU8(&wal) || wal > 1 || !r.ReadLengthPrefixed(&e.quick_check, 4096) || !r.ReadVarint64(&e.read_hold_us) ||
      !ReadStamp(&r, &e.main) || !r.ReadU8(&has_wal) || has_wal > 1)
    return Status::Corruption("sqlite capture extension: truncated or malformed");
  e.wal = wal == 1;
  if (has_wal) {
    FileStamp s;
    if (!ReadStamp(&r, &s)) return Status::Corruption("sqlite capture extension: truncated wal stamp");
    e.wal_file = s;
  }
  if (!r.ReadVarsint64(&e.stamped_at_ns))
    return Status::Corruption("sqlite capture extension: truncated or trailing bytes");
  if (version == 1) {
    e.last_check_ns = e.quick_check == "ok" ? e.stamped_at_ns : 0;
  } else if (!r.ReadVarsint64(&e.last_check_ns)) {
    return Status::Corruption("sqlite capture extension: truncated last check time");
  }
  if (!r.empty()) return Status::Corruption("sqlite capture extension: trailing bytes");
  return e;
}

}  // namespace qm
