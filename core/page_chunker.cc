#include "core/page_chunker.h"

#include <bit>
#include <cstdlib>

#include "core/hash.h"

namespace qm {

PageChunker::PageChunker(PageChunkerParams params, uint32_t page_size) : page_size_(page_size) {
  if (page_size < 512 || page_size > 65536 || !std::has_single_bit(page_size)) std::abort();
  auto pages = [page_size](uint32_t bytes) { return std::max<uint32_t>(1, bytes / page_size); };
  min_pages_ = pages(params.min_bytes);
  max_pages_ = std::max(min_pages_, pages(params.max_bytes));
  const uint32_t avg_pages = std::bit_ceil(pages(params.avg_bytes));
  // Past min_pages, each page ends the chunk with probability 1/2^bits, so
  // the expected length is about min_pages + 2^bits - 1 pages.
  const uint32_t extra = avg_pages > min_pages_ ? avg_pages - min_pages_ + 1 : 1;
  const int bits = std::bit_width(std::bit_floor(extra)) - 1;
  mask_ = bits == 0 ? 0 : (~0ull << (64 - bits));
}

bool PageChunker::CutAfter(ByteView page, uint32_t pages_in_chunk, uint64_t page_no) const {
  if (page_no == 1) return true;
  if (pages_in_chunk >= max_pages_) return true;
  if (pages_in_chunk < min_pages_) return false;
  return (Xxh3_64(page) & mask_) == 0;
}

}  // namespace qm
