#include "tests/support/heap_pages.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace qm {

size_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void* LeaveFreeHeapPagesBelowALiveBlock(size_t bytes) {
  constexpr size_t kBlock = 64u << 10;
  std::vector<void*> blocks;
  for (size_t i = 0; i < bytes / kBlock; ++i) {
    blocks.push_back(std::malloc(kBlock));
    std::memset(blocks.back(), 1, kBlock);
  }
  for (size_t i = 0; i + 1 < blocks.size(); ++i) std::free(blocks[i]);
  return blocks.empty() ? nullptr : blocks.back();
}

}  // namespace qm
