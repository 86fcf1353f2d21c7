// ReturnLargeBuffersOnFree: a large buffer is its own mapping, given back
// when freed, even after a larger one was freed (which is what raises
// glibc's dynamic threshold and sends later buffers to the heap).
// ReleaseFreeHeapPages: free pages held below a live allocation go back to
// the system.
#include "store/io/allocator.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "tests/support/heap_pages.h"

namespace qm {
namespace {

size_t MappedBytes() {
  return mallinfo2().hblkhd;
}

TEST(AllocatorTest, ALargeBufferIsMappedAndGivenBackAfterALargerOneWasFreed) {
  if (!kGlibcMalloc) GTEST_SKIP() << "glibc's malloc is not the allocator here";
  ReturnLargeBuffersOnFree();
  void* volatile big = std::malloc(8u << 20);
  std::memset(big, 1, 8u << 20);
  std::free(big);
  const size_t before = MappedBytes();
  void* volatile p = std::malloc(2u << 20);
  std::memset(p, 1, 2u << 20);
  EXPECT_GE(MappedBytes(), before + (2u << 20)) << "a 2 MiB buffer is a mapping of its own";
  std::free(p);
  EXPECT_EQ(before, MappedBytes()) << "and freeing it unmaps it";
}

TEST(AllocatorTest, ReleaseFreeHeapPagesGivesBackFreePagesBelowALiveAllocation) {
  if (!kGlibcMalloc) GTEST_SKIP() << "glibc's malloc is not the allocator here";
  ReturnLargeBuffersOnFree();
  void* live = LeaveFreeHeapPagesBelowALiveBlock(64u << 20);
  const size_t before = ResidentBytes();
  ASSERT_GT(before, 48u << 20) << "the freed pages are still resident";
  EXPECT_TRUE(ReleaseFreeHeapPages()) << "there were free pages to release";
  const size_t after = ResidentBytes();
  EXPECT_LE(after + (48u << 20), before) << "the freed 64 MiB are no longer resident: " << before << " -> " << after;
  std::free(live);
}

}  // namespace
}  // namespace qm
