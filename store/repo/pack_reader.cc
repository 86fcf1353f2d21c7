#include "store/repo/pack_reader.h"

#include <array>
#include <cstring>

#include "core/zstd_codec.h"

namespace qm {
namespace {

// Decompression contexts are costly to create; one per thread.
ZstdCodec& ThreadCodec() {
  thread_local ZstdCodec codec(1);
  return codec;
}

// The last few shared frames this thread decompressed, kept so that a
// frame's other blobs are not decompressed again: the blobs read next, and
// those read after a few from other frames (a restore of a later snapshot
// reads a page or two of each hour's frames between the pages of an older
// frame). A frame is used only for the same stored bytes: either the very
// buffer it was decoded from, with no read into any buffer on this thread
// since (a bulk read decoding a span's blobs one after another), or bytes
// equal to its stored copy (a pack damaged after it was decoded is not
// hidden by it). Each blob taken from it is still checked against its own
// SHA-256. At most kFrames x (64 KiB + its stored bytes) per thread with
// the frames writers make.
struct CachedFrame {
  Hash256 pack;
  uint64_t offset = 0;
  bool valid = false;
  const uint8_t* source = nullptr;
  uint64_t reads_at_fill = 0;
  uint64_t last_use = 0;
  Bytes stored;
  Bytes plaintext;
};

struct FrameCache {
  static constexpr size_t kFrames = 4;
  std::array<CachedFrame, kFrames> frames;
  uint64_t uses = 0;
};

FrameCache& ThreadFrameCache() {
  thread_local FrameCache cache;
  return cache;
}

// Reads of stored bytes made on this thread.
uint64_t& ThreadReads() {
  thread_local uint64_t reads = 0;
  return reads;
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
  const size_t toc_size = static_cast<size_t>(trailer->toc_size());
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
  ThreadReads()++;
  out->resize(stored_len);
  return file_->ReadAt(offset, stored_len, out->data());
}

Status PackReader::ReadStoredTo(uint64_t offset, uint32_t stored_len, uint8_t* dst) const {
  QM_RETURN_IF_ERROR(CheckStoredRange(offset, stored_len));
  ThreadReads()++;
  return file_->ReadAt(offset, stored_len, dst);
}

Result<ByteView> PackReader::SharedFramePlaintext(ByteView frame, const StoredBlob& blob) const {
  if (frame.size() != blob.stored_len) return Status::Corruption("shared frame has the wrong stored size");
  FrameCache& cache = ThreadFrameCache();
  CachedFrame* victim = &cache.frames[0];
  for (CachedFrame& f : cache.frames) {
    if (f.valid && f.pack == id_ && f.offset == blob.offset && f.plaintext.size() == blob.frame_raw_len &&
        f.stored.size() == frame.size() &&
        ((f.source == frame.data() && f.reads_at_fill == ThreadReads()) ||
         std::memcmp(f.stored.data(), frame.data(), frame.size()) == 0)) {
      f.last_use = ++cache.uses;
      return ByteView(f.plaintext);
    }
    if (!f.valid || (victim->valid && f.last_use < victim->last_use)) victim = &f;
  }
  CachedFrame& f = *victim;
  f.valid = false;
  f.plaintext.resize(blob.frame_raw_len);
  QM_RETURN_IF_ERROR(ThreadCodec().DecompressTo(frame, f.plaintext.data(), blob.frame_raw_len));
  f.stored.assign(frame.begin(), frame.end());
  f.pack = id_;
  f.offset = blob.offset;
  f.source = frame.data();
  f.reads_at_fill = ThreadReads();
  f.last_use = ++cache.uses;
  f.valid = true;
  return ByteView(f.plaintext);
}

Status PackReader::ReadBlob(const Hash256& id, const StoredBlob& blob, Bytes* out) const {
  const std::string ctx = "pack " + id_.ShortHex() + ", blob " + id.ShortHex();
  if (blob.raw_len > kMaxBlobSize) return Status::Corruption(ctx, "blob too large");
  if (blob.compression == Compression::kNone) {
    // Stored as is (tree nodes: hashes do not compress): read straight into
    // `out` instead of through a second buffer.
    if (blob.stored_len != blob.raw_len) return Status::Corruption(ctx, "stored size differs from raw size");
    QM_RETURN_IF_ERROR(ReadStored(blob.offset, blob.stored_len, out).WithContext(ctx));
    if (Sha256(*out) != id) return Status::Corruption(ctx, "content does not match its hash");
    return Status::OK();
  }
  Bytes stored;
  QM_RETURN_IF_ERROR(ReadStored(blob.offset, blob.stored_len, &stored).WithContext(ctx));
  return DecodeBlob(id, stored, blob, out);
}

Status PackReader::DecodeBlob(const Hash256& id, ByteView frame, const StoredBlob& blob, Bytes* out) const {
  // Checked before sizing the buffer from a length read off the disk.
  if (blob.raw_len > kMaxBlobSize)
    return Status::Corruption("pack " + id_.ShortHex() + ", blob " + id.ShortHex(), "blob too large");
  out->resize(blob.raw_len);
  Status s = DecodeBlobTo(id, frame, blob, out->data());
  if (!s.ok()) out->clear();
  return s;
}

Status PackReader::DecodeBlobTo(const Hash256& id, ByteView frame, const StoredBlob& blob, uint8_t* dst) const {
  auto ctx = [&] { return "pack " + id_.ShortHex() + ", blob " + id.ShortHex(); };
  const uint32_t raw_len = blob.raw_len;
  if (raw_len > kMaxBlobSize) return Status::Corruption(ctx(), "blob too large");
  if (const char* problem = SharedFrameProblem(blob)) return Status::Corruption(ctx(), problem);
  if (blob.shared_frame()) {
    auto plain = SharedFramePlaintext(frame, blob);
    if (!plain.ok()) return plain.status().WithContext(ctx());
    std::memcpy(dst, plain->data() + blob.raw_offset, raw_len);
  } else if (blob.compression == Compression::kNone) {
    if (frame.size() != raw_len) return Status::Corruption(ctx(), "stored size differs from raw size");
    std::memcpy(dst, frame.data(), raw_len);
  } else {
    QM_RETURN_IF_ERROR(ThreadCodec().DecompressTo(frame, dst, raw_len).WithContext(ctx()));
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
    if (!ReadBlob(e.id, StoredBlobOf(e), &raw).ok()) bad.push_back(e);
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
