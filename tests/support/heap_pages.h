// Helpers for tests of how the heap gives memory back to the system
// (store/io/allocator.h).
#pragma once

#include <cstddef>

namespace qm {

// Whether glibc's malloc serves this process (not a sanitizer's allocator):
// only then do its arenas keep free pages resident, and give them back.
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
inline constexpr bool kGlibcMalloc = false;
#else
inline constexpr bool kGlibcMalloc = true;
#endif

// Resident bytes of this process now (/proc/self/statm), or 0 if unknown.
size_t ResidentBytes();

// Fills `bytes` of the calling thread's arena in 64 KiB blocks (under the
// mmap threshold) and frees all but the last, which stays live so the freed
// run is not at the top of the heap, where free() alone would give it back.
// Returns the live block, for the caller to free.
void* LeaveFreeHeapPagesBelowALiveBlock(size_t bytes);

}  // namespace qm
