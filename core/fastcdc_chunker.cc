#include "core/fastcdc_chunker.h"

#include <array>
#include <bit>
#include <cstdlib>

namespace qm {

namespace {

// The gear table is SplitMix64 seeded with 0x716d2d736e617021 ("qm-snap!"),
// the first 256 outputs in order (docs/format.md). It is part of the format:
// changing it changes every cut point and so every chunk id.
constexpr uint64_t kGearSeed = 0x716d2d736e617021ull;

constexpr std::array<uint64_t, 256> MakeGear() {
  std::array<uint64_t, 256> t{};
  uint64_t x = kGearSeed;
  for (auto& v : t) {
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    v = z ^ (z >> 31);
  }
  return t;
}

constexpr std::array<uint64_t, 256> kGear = MakeGear();

// The `bits` highest bits of the fingerprint. The fingerprint shifts left
// once per byte, so its top bits depend on the last 64 bytes: that is the
// rolling window.
constexpr uint64_t TopMask(int bits) {
  return bits <= 0 ? 0 : (~0ull << (64 - bits));
}

}  // namespace

const uint64_t* GearTable() {
  return kGear.data();
}

FastCdcChunker::FastCdcChunker(ChunkerParams params) : params_(params) {
  if (params.min_size < 64 || params.min_size >= params.avg_size || params.avg_size >= params.max_size ||
      !std::has_single_bit(params.avg_size))
    std::abort();  // a programming error: RepoConfig validates operator input
  int bits = std::countr_zero(params.avg_size);
  // Normalized chunking, level 2: two more bits before the average size
  // (cuts less likely), two fewer after it (cuts more likely).
  mask_s_ = TopMask(bits + 2);
  mask_l_ = TopMask(bits - 2);
}

size_t FastCdcChunker::NextCut(ByteView data, bool at_eof) const {
  const size_t n = data.size();
  if (n == 0) return 0;
  const size_t min = params_.min_size, avg = params_.avg_size, max = params_.max_size;
  if (n <= min) return at_eof ? n : 0;
  const size_t limit = n < max ? n : max;
  const size_t normal = limit < avg ? limit : avg;
  uint64_t fp = 0;
  size_t i = min;
  for (; i < normal; i++) {
    fp = (fp << 1) + kGear[data[i]];
    if ((fp & mask_s_) == 0) return i + 1;
  }
  for (; i < limit; i++) {
    fp = (fp << 1) + kGear[data[i]];
    if ((fp & mask_l_) == 0) return i + 1;
  }
  if (limit == max) return max;
  return at_eof ? n : 0;
}

}  // namespace qm
