// Micro-benchmarks of the per-byte kernels of a backup: chunking, hashing,
// compression. Reported as bytes/second; never asserted in tests.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

#include "core/fastcdc_chunker.h"
#include "core/hash.h"
#include "core/page_chunker.h"
#include "core/zstd_codec.h"

namespace qm {
namespace {

// Half random, half repetitive text: roughly the compressibility of QuantMesh data.
const Bytes& Data() {
  static Bytes data = [] {
    Bytes d(16 << 20);
    std::mt19937_64 rng(42);
    for (size_t i = 0; i < d.size(); i += 8) {
      uint64_t v = rng();
      if ((i / 4096) % 2) v = 0x3030303a31324e49ull + (i % 97);
      std::memcpy(&d[i], &v, 8);
    }
    return d;
  }();
  return data;
}

void BM_FastCdc(benchmark::State& state) {
  FastCdcChunker chunker(ChunkerParams{});
  const Bytes& d = Data();
  for (auto _ : state) {
    size_t pos = 0, chunks = 0;
    while (pos < d.size()) {
      pos += chunker.NextCut(ByteView(d.data() + pos, d.size() - pos), true);
      ++chunks;
    }
    benchmark::DoNotOptimize(chunks);
  }
  state.SetBytesProcessed(state.iterations() * d.size());
}
BENCHMARK(BM_FastCdc);

// Page-aligned CDC over 4 KiB pages; arg 0: the generic 8 KiB-average
// parameters, arg 1: kDatabaseChunking (one page per chunk, no hashing).
void BM_PageChunker(benchmark::State& state) {
  const PageChunker chunker(state.range(0) ? kDatabaseChunking : PageChunkerParams{}, 4096);
  const Bytes& d = Data();
  for (auto _ : state) {
    uint32_t in_chunk = 0;
    size_t chunks = 0;
    for (size_t off = 0, page = 1; off + 4096 <= d.size(); off += 4096, ++page) {
      ++in_chunk;
      if (chunker.CutAfter(ByteView(d.data() + off, 4096), in_chunk, page)) {
        ++chunks;
        in_chunk = 0;
      }
    }
    benchmark::DoNotOptimize(chunks);
  }
  state.SetBytesProcessed(state.iterations() * d.size());
}
BENCHMARK(BM_PageChunker)->Arg(0)->Arg(1);

// SHA-256 one 4 KiB chunk at a time: the per-call cost databases pay.
void BM_Sha256Per4K(benchmark::State& state) {
  const Bytes& d = Data();
  for (auto _ : state)
    for (size_t off = 0; off + 4096 <= d.size(); off += 4096)
      benchmark::DoNotOptimize(Sha256(ByteView(d.data() + off, 4096)));
  state.SetBytesProcessed(state.iterations() * d.size());
}
BENCHMARK(BM_Sha256Per4K);

void BM_Sha256(benchmark::State& state) {
  const Bytes& d = Data();
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(d));
  state.SetBytesProcessed(state.iterations() * d.size());
}
BENCHMARK(BM_Sha256);

void BM_Xxh3(benchmark::State& state) {
  const Bytes& d = Data();
  for (auto _ : state) benchmark::DoNotOptimize(Xxh3_64(d));
  state.SetBytesProcessed(state.iterations() * d.size());
}
BENCHMARK(BM_Xxh3);

void BM_ZstdCompress64K(benchmark::State& state) {
  ZstdCodec codec(static_cast<int>(state.range(0)));
  const Bytes& d = Data();
  Bytes out;
  size_t in = 0, stored = 0;
  for (auto _ : state) {
    for (size_t off = 0; off + 65536 <= d.size(); off += 65536) {
      (void)codec.Compress(ByteView(d.data() + off, 65536), &out);
      in += 65536;
      stored += out.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(in));
  state.counters["ratio"] = stored ? static_cast<double>(in) / static_cast<double>(stored) : 0;
}
BENCHMARK(BM_ZstdCompress64K)->Arg(1)->Arg(3)->Arg(6);

// One database page per frame, as kDatabaseChunking stores them.
void BM_ZstdCompress4K(benchmark::State& state) {
  ZstdCodec codec(static_cast<int>(state.range(0)));
  const Bytes& d = Data();
  Bytes out;
  size_t in = 0, stored = 0;
  for (auto _ : state) {
    for (size_t off = 0; off + 4096 <= d.size(); off += 4096) {
      (void)codec.Compress(ByteView(d.data() + off, 4096), &out);
      in += 4096;
      stored += out.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(in));
  state.counters["ratio"] = stored ? static_cast<double>(in) / static_cast<double>(stored) : 0;
}
BENCHMARK(BM_ZstdCompress4K)->Arg(1)->Arg(3);

}  // namespace
}  // namespace qm
