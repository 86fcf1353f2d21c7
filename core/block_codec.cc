#include "core/block_codec.h"

#include <libdeflate.h>
#include <lzma.h>
#include <zstd.h>

#include <string>

namespace qm {

std::string_view ArchiveExtension(ArchiveCompression c) {
  switch (c) {
    case ArchiveCompression::kGzip: return "tar.gz";
    case ArchiveCompression::kZstd: return "tar.zst";
    case ArchiveCompression::kXz: return "tar.xz";
  }
  return "tar";
}

Result<ArchiveCompression> ParseArchiveFormat(std::string_view text) {
  if (text == "tar.gz" || text == "gz" || text == "tgz") return ArchiveCompression::kGzip;
  if (text == "tar.zst" || text == "zst" || text == "zstd") return ArchiveCompression::kZstd;
  if (text == "tar.xz" || text == "xz") return ArchiveCompression::kXz;
  return Status::InvalidArgument("archive format \"" + std::string(text) + "\"", "use tar.gz, tar.zst or tar.xz");
}

int DefaultArchiveLevel(ArchiveCompression c) {
  switch (c) {
    case ArchiveCompression::kGzip: return 6;
    case ArchiveCompression::kZstd: return 3;
    case ArchiveCompression::kXz: return 6;
  }
  return 0;
}

Status CheckArchiveLevel(ArchiveCompression c, int level) {
  int lo = 1, hi = 12;
  if (c == ArchiveCompression::kZstd) hi = 19;
  if (c == ArchiveCompression::kXz) lo = 0, hi = 9;
  if (level < lo || level > hi)
    return Status::InvalidArgument(
        "compression level " + std::to_string(level),
        "must be " + std::to_string(lo) + ".." + std::to_string(hi) + " for " + std::string(ArchiveExtension(c)));
  return Status::OK();
}

struct BlockCompressor::Impl {
  ArchiveCompression c = ArchiveCompression::kGzip;
  int level = 0;
  libdeflate_compressor* deflate = nullptr;
  ZSTD_CCtx* zstd = nullptr;
  // Compressed output goes here first: sized once to the largest bound seen,
  // so no block pays for zero-filling a fresh worst-case buffer (perf: 5% of
  // an export in memset), then is copied out at its real size.
  Bytes scratch;
  uint8_t* Scratch(size_t n) {
    if (scratch.size() < n) scratch.resize(n);
    return scratch.data();
  }
  ~Impl() {
    if (deflate) libdeflate_free_compressor(deflate);
    if (zstd) ZSTD_freeCCtx(zstd);
  }
};

BlockCompressor::BlockCompressor(ArchiveCompression c, int level) : impl_(new Impl) {
  impl_->c = c;
  impl_->level = level;
}
BlockCompressor::~BlockCompressor() = default;

namespace {

void PutLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

Status BlockCompressor::Compress(ByteView in, Bytes* out) {
  switch (impl_->c) {
    case ArchiveCompression::kGzip: {
      if (!impl_->deflate) impl_->deflate = libdeflate_alloc_compressor(impl_->level);
      if (!impl_->deflate) return Status::InvalidArgument("gzip level " + std::to_string(impl_->level));
      // Header: ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=3 (unix).
      static const uint8_t kHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
      const size_t bound = libdeflate_deflate_compress_bound(impl_->deflate, in.size());
      uint8_t* buf = impl_->Scratch(10 + bound + 8);
      std::copy(kHeader, kHeader + 10, buf);
      const size_t n = libdeflate_deflate_compress(impl_->deflate, in.data(), in.size(), buf + 10, bound);
      if (n == 0) return Status::IOError("gzip compression failed");
      PutLe32(buf + 10 + n, libdeflate_crc32(0, in.data(), in.size()));
      PutLe32(buf + 14 + n, static_cast<uint32_t>(in.size()));  // ISIZE: size mod 2^32
      out->assign(buf, buf + 18 + n);
      return Status::OK();
    }
    case ArchiveCompression::kZstd: {
      if (!impl_->zstd) impl_->zstd = ZSTD_createCCtx();
      if (!impl_->zstd) return Status::NoSpace("zstd context");
      const size_t bound = ZSTD_compressBound(in.size());
      uint8_t* buf = impl_->Scratch(bound);
      const size_t n = ZSTD_compressCCtx(impl_->zstd, buf, bound, in.data(), in.size(), impl_->level);
      if (ZSTD_isError(n)) return Status::IOError("zstd compression failed", ZSTD_getErrorName(n));
      out->assign(buf, buf + n);
      return Status::OK();
    }
    case ArchiveCompression::kXz: {
      const size_t bound = lzma_stream_buffer_bound(in.size());
      uint8_t* buf = impl_->Scratch(bound);
      size_t pos = 0;
      const lzma_ret r = lzma_easy_buffer_encode(static_cast<uint32_t>(impl_->level), LZMA_CHECK_CRC64, nullptr,
                                                 in.data(), in.size(), buf, &pos, bound);
      if (r != LZMA_OK) return Status::IOError("xz compression failed", "liblzma error " + std::to_string(r));
      out->assign(buf, buf + pos);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown archive compression");
}

}  // namespace qm
