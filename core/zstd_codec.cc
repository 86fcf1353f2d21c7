#include "core/zstd_codec.h"

// ZSTD_getCParams is in zstd's "static linking only" section; Debian's
// shared libzstd exports it, and its signature has not changed since 1.3.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <string>

namespace qm {

struct ZstdCodec::Impl {
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  ~Impl() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
};

ZstdCodec::ZstdCodec(int level) : level_(level), impl_(std::make_unique<Impl>()) {}
ZstdCodec::~ZstdCodec() = default;

Status ZstdCodec::Compress(ByteView in, Bytes* out) {
  if (impl_->cctx == nullptr) {
    impl_->cctx = ZSTD_createCCtx();
    if (impl_->cctx == nullptr) return Status::IOError("zstd: cannot allocate a compression context");
    ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_compressionLevel, level_);
    ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_checksumFlag, 0);
    // Levels 2 and 3: the hash and chain tables of the level's large-input
    // parameters (what `zstd -3` and borg's `zstd,3` use). For inputs of
    // 16-128 KiB zstd picks smaller tables, and a shared frame of 12-16
    // pages compresses 13-17% slower with them for output no smaller
    // (bench/zstd_frames, docs/performance.md). zstd still caps both tables
    // to the input (at level 3 frames of up to 32 KiB come out as before,
    // single pages at both), and the window is not touched: a reader's
    // memory per frame is unchanged.
    // At level 1 the larger table is slower; above 3 it makes no difference.
    if (level_ == 2 || level_ == 3) {
      const ZSTD_compressionParameters large = ZSTD_getCParams(level_, ZSTD_CONTENTSIZE_UNKNOWN, 0);
      ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_hashLog, static_cast<int>(large.hashLog));
      ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_chainLog, static_cast<int>(large.chainLog));
    }
  }
  out->resize(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress2(impl_->cctx, out->data(), out->size(), in.data(), in.size());
  if (ZSTD_isError(n)) {
    out->clear();
    ZSTD_CCtx_reset(impl_->cctx, ZSTD_reset_session_only);
    return Status::IOError("zstd compression failed", ZSTD_getErrorName(n));
  }
  out->resize(n);
  return Status::OK();
}

Status ZstdCodec::DecompressTo(ByteView in, uint8_t* dst, size_t raw_size) {
  unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return Status::Corruption("zstd frame header is invalid");
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != raw_size)
    return Status::Corruption("zstd frame declares " + std::to_string(declared) + " bytes, expected " +
                              std::to_string(raw_size));
  if (impl_->dctx == nullptr) {
    impl_->dctx = ZSTD_createDCtx();
    if (impl_->dctx == nullptr) return Status::IOError("zstd: cannot allocate a decompression context");
  }
  // Decompressing into exactly raw_size bytes: a frame that would produce
  // more fails with dstSize_tooSmall instead of writing past the buffer.
  size_t n = ZSTD_decompressDCtx(impl_->dctx, dst, raw_size, in.data(), in.size());
  if (ZSTD_isError(n)) return Status::Corruption("zstd frame does not decode", ZSTD_getErrorName(n));
  if (n != raw_size) {
    return Status::Corruption("zstd frame decodes to " + std::to_string(n) + " bytes, expected " +
                              std::to_string(raw_size));
  }
  return Status::OK();
}

}  // namespace qm
