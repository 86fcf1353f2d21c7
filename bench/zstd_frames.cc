// zstd on a database's pages, one page per frame against several pages per
// frame (shared frames, docs/format.md "Pack files"): compression and
// decompression speed on one core, and stored size. docs/performance.md.
//
// Usage: zstd_frames FILE [PAGES]   (the first PAGES 4 KiB pages, default 60000)
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getCParams
#include <zstd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: zstd_frames FILE [PAGES]\n");
    return 2;
  }
  constexpr size_t kPage = 4096;
  const size_t want = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 60000;
  std::FILE* f = std::fopen(argv[1], "rb");
  if (!f) {
    std::perror(argv[1]);
    return 1;
  }
  std::vector<char> data(want * kPage);
  const size_t pages = std::fread(data.data(), 1, data.size(), f) / kPage;
  std::fclose(f);
  std::printf("%zu pages of %s, one core\n\n", pages, argv[1]);
  std::printf("| pages per frame | level | tables | compress MB/s | decompress MB/s | stored / raw |\n");
  std::printf("| ---: | ---: | --- | ---: | ---: | ---: |\n");
  std::vector<char> frame(ZSTD_compressBound(kPage * 32)), plain(kPage * 32);
  for (const size_t group : {1, 8, 16, 32}) {
    // "zstd's": the parameters zstd picks for the frame's size; "large":
    // with the hash and chain tables of the level's large-input parameters,
    // as qm-snap's codec uses at levels 2 and 3 (core/zstd_codec.cc).
    for (const auto& [level, large] : {std::pair{1, false}, {2, false}, {2, true}, {3, false}, {3, true}}) {
      ZSTD_CCtx* cctx = ZSTD_createCCtx();
      ZSTD_DCtx* dctx = ZSTD_createDCtx();
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
      if (large) {
        const ZSTD_compressionParameters p = ZSTD_getCParams(level, ZSTD_CONTENTSIZE_UNKNOWN, 0);
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, static_cast<int>(p.hashLog));
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_chainLog, static_cast<int>(p.chainLog));
      }
      size_t stored = 0, raw = 0;
      double compress_s = 0, decompress_s = 0;
      for (size_t i = 0; i + group <= pages; i += group) {
        auto t0 = std::chrono::steady_clock::now();
        const size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), data.data() + i * kPage, group * kPage);
        compress_s += Seconds(t0);
        if (ZSTD_isError(n)) return 1;
        t0 = std::chrono::steady_clock::now();
        const size_t m = ZSTD_decompressDCtx(dctx, plain.data(), plain.size(), frame.data(), n);
        decompress_s += Seconds(t0);
        if (m != group * kPage) return 1;
        stored += n < group * kPage ? n : group * kPage;  // stored raw when zstd does not help
        raw += group * kPage;
      }
      std::printf("| %zu | %d | %s | %.0f | %.0f | %.4f |\n", group, level, large ? "large" : "zstd's",
                  raw / compress_s / 1e6, raw / decompress_s / 1e6, double(stored) / double(raw));
      ZSTD_freeCCtx(cctx);
      ZSTD_freeDCtx(dctx);
    }
  }
  return 0;
}
