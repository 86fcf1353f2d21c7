#include "store/repo/pack_reader.h"

#include <cstring>

#include "core/zstd_codec.h"

namespace qm {
namespace {

// Decompression contexts are costly to create; one per thread.
ZstdCodec& ThreadCodec() {
  thread_local ZstdCodec codec(1);
  return codec;
}

}  // namespace

Result<std::unique_ptr<PackReader>> PackReader::Open(Env* env, const std::string& path, const Hash256& pack_id) {
  auto f = env->NewRandomAccessFile(path);
  if (!f.ok()) return f.status();
  return std::unique_ptr<PackReader>(new PackReader(path, pack_id, std::move(f).value()));
}

Result<std::vector<PackEntry>> PackReader::ReadToc() const {
  const uint64_t n = file_->Size();
  const std::string ctx = "pack " + id_.ShortHex();
  if (n < kPackHeaderSize + kPackTrailerSize) return Status::Corruption(ctx, "file too small to be a pack");
  uint8_t trailer_buf[kPackTrailerSize];
  QM_RETURN_IF_ERROR(file_->ReadAt(n - kPackTrailerSize, kPackTrailerSize, trailer_buf).WithContext(ctx));
  auto trailer = DecodePackTrailer(ByteView(trailer_buf, kPackTrailerSize), n);
  if (!trailer.ok()) return trailer.status().WithContext(ctx);
  // Not zero-filled first: the read overwrites all of it (sized from a
  // trailer DecodePackTrailer checked against the file's size).
  const size_t toc_size = static_cast<size_t>(trailer->entry_count) * kPackTocEntrySize;
  std::unique_ptr<uint8_t[]> toc(new uint8_t[toc_size]);
  QM_RETURN_IF_ERROR(file_->ReadAt(trailer->toc_offset, toc_size, toc.get()).WithContext(ctx));
  auto entries = DecodePackToc(ByteView(toc.get(), toc_size), *trailer);
  if (!entries.ok()) return entries.status().WithContext(ctx);
  return entries;
}

Status PackReader::CheckStoredRange(uint64_t offset, uint32_t stored_len) const {
  if (offset > file_->Size() || stored_len > file_->Size() - offset) {
    return Status::Corruption("pack " + id_.ShortHex(), "blob extends past the end of the file");
  }
  return Status::OK();
}

Status PackReader::ReadStored(uint64_t offset, uint32_t stored_len, Bytes* out) const {
  QM_RETURN_IF_ERROR(CheckStoredRange(offset, stored_len));  // before sizing `out` from it
  out->resize(stored_len);
  return file_->ReadAt(offset, stored_len, out->data());
}

Status PackReader::ReadStoredTo(uint64_t offset, uint32_t stored_len, uint8_t* dst) const {
  QM_RETURN_IF_ERROR(CheckStoredRange(offset, stored_len));
  return file_->ReadAt(offset, stored_len, dst);
}

Status PackReader::ReadBlob(const Hash256& id, uint64_t offset, uint32_t stored_len, uint32_t raw_len,
                            Compression compression, Bytes* out) const {
  const std::string ctx = "pack " + id_.ShortHex() + ", blob " + id.ShortHex();
  if (raw_len > kMaxBlobSize) return Status::Corruption(ctx, "blob too large");
  if (compression == Compression::kNone) {
    // Stored as is (tree nodes: hashes do not compress): read straight into
    // `out` instead of through a second buffer.
    if (stored_len != raw_len) return Status::Corruption(ctx, "stored size differs from raw size");
    QM_RETURN_IF_ERROR(ReadStored(offset, stored_len, out).WithContext(ctx));
    if (Sha256(*out) != id) return Status::Corruption(ctx, "content does not match its hash");
    return Status::OK();
  }
  Bytes stored;
  QM_RETURN_IF_ERROR(ReadStored(offset, stored_len, &stored).WithContext(ctx));
  return DecodeBlob(id, stored, raw_len, compression, out);
}

Status PackReader::DecodeBlob(const Hash256& id, ByteView stored, uint32_t raw_len, Compression compression,
                              Bytes* out) const {
  // Checked before sizing the buffer from a length read off the disk.
  if (raw_len > kMaxBlobSize)
    return Status::Corruption("pack " + id_.ShortHex() + ", blob " + id.ShortHex(), "blob too large");
  out->resize(raw_len);
  Status s = DecodeBlobTo(id, stored, raw_len, compression, out->data());
  if (!s.ok()) out->clear();
  return s;
}

Status PackReader::DecodeBlobTo(const Hash256& id, ByteView stored, uint32_t raw_len, Compression compression,
                                uint8_t* dst) const {
  auto ctx = [&] { return "pack " + id_.ShortHex() + ", blob " + id.ShortHex(); };
  if (raw_len > kMaxBlobSize) return Status::Corruption(ctx(), "blob too large");
  if (compression == Compression::kNone) {
    if (stored.size() != raw_len) return Status::Corruption(ctx(), "stored size differs from raw size");
    std::memcpy(dst, stored.data(), raw_len);
  } else {
    QM_RETURN_IF_ERROR(ThreadCodec().DecompressTo(stored, dst, raw_len).WithContext(ctx()));
  }
  if (Sha256(ByteView(dst, raw_len)) != id) return Status::Corruption(ctx(), "content does not match its hash");
  return Status::OK();
}

Result<std::vector<PackEntry>> PackReader::VerifyAll() const {
  QM_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, ReadToc());
  const std::string ctx = "pack " + id_.ShortHex();
  // Hash the whole file in pieces; compare with the pack's name.
  Sha256Hasher whole;
  Bytes buf;
  const uint64_t n = file_->Size();
  for (uint64_t off = 0; off < n;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(4u << 20, n - off));
    buf.resize(len);
    QM_RETURN_IF_ERROR(file_->ReadAt(off, len, buf.data()).WithContext(ctx));
    whole.Update(buf);
    off += len;
  }
  const bool file_ok = whole.Finish() == id_;
  std::vector<PackEntry> bad;
  Bytes raw;
  for (const PackEntry& e : entries) {
    if (!ReadBlob(e.id, e.offset, e.stored_len, e.raw_len, e.compression, &raw).ok()) bad.push_back(e);
  }
  if (!file_ok && bad.empty()) {
    // The bytes differ from when the pack was sealed but every blob still
    // verifies: the damage is in the header or padding. Report it as a
    // structural problem so check still fails.
    return Status::Corruption(ctx, "file content does not match its name (damaged outside any blob)");
  }
  return bad;
}

}  // namespace qm
