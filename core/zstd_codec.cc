#include "core/zstd_codec.h"

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
