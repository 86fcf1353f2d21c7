// ReturnLargeBuffersOnFree: a large buffer is its own mapping, given back
// when freed, even after a larger one was freed (which is what raises
// glibc's dynamic threshold and sends later buffers to the heap).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "store/io/env.h"

namespace qm {
namespace {

#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
#define QM_GLIBC_MALLOC 0
#else
#define QM_GLIBC_MALLOC 1
#endif

size_t MappedBytes() {
  return mallinfo2().hblkhd;
}

TEST(AllocatorTest, ALargeBufferIsMappedAndGivenBackAfterALargerOneWasFreed) {
  if (!QM_GLIBC_MALLOC) GTEST_SKIP() << "glibc's malloc is not the allocator here";
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

}  // namespace
}  // namespace qm
