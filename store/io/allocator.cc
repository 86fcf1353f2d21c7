#include "store/io/allocator.h"

#include <malloc.h>

namespace qm {

void ReturnLargeBuffersOnFree() {
#ifdef __GLIBC__
  // Setting the threshold turns off glibc's dynamic threshold, which rises
  // to the largest buffer freed so far (up to 32 MiB) and then serves such
  // buffers from the heap, where freed ones stay resident among long-lived
  // allocations. 1 MiB, not the default 128 KiB: buffers between the two
  // (a pack's table, a write batch) come and go once per pack, and each
  // fresh mapping is page faults again (1G initial backup: 46k faults at
  // 128 KiB, 37k at 1 MiB, 21k without a fixed threshold).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}

bool ReleaseFreeHeapPages() {
#ifdef __GLIBC__
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace qm
