// Libraries bound at first use (store/io/dynamic_library.h).
#include "store/io/dynamic_library.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "tests/support/test_util.h"

namespace qm {
namespace {

TEST(DynamicLibraryTest, AMissingLibraryIsNotSupportedAndNamesIt) {
  auto lib = DynamicLibrary::Load("libqm-snap-no-such-library.so.7");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), Code::kNotSupported) << lib.status().ToString();
  EXPECT_NE(lib.status().ToString().find("libqm-snap-no-such-library.so.7"), std::string::npos)
      << lib.status().ToString();
  // Asked again, the same answer.
  auto again = DynamicLibrary::Load("libqm-snap-no-such-library.so.7");
  EXPECT_EQ(again.status().ToString(), lib.status().ToString());
}

TEST(DynamicLibraryTest, BindsAFunctionThatThenWorksAndNamesAMissingSymbol) {
  auto lib = DynamicLibrary::Load("libz.so.1");
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
  auto again = DynamicLibrary::Load("libz.so.1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*lib, *again) << "loaded once per process";
  decltype(&::crc32) crc = nullptr;
  ASSERT_TRUE((*lib)->Bind("crc32", &crc).ok());
  const unsigned char data[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(crc(0, data, sizeof(data)), 0xCBF43926u);  // the CRC-32 check value
  decltype(&::crc32) none = nullptr;
  Status missing = (*lib)->Bind("qm_snap_no_such_symbol", &none);
  EXPECT_EQ(missing.code(), Code::kNotSupported);
  EXPECT_NE(missing.ToString().find("qm_snap_no_such_symbol"), std::string::npos) << missing.ToString();
}

// Loading libcurl, libarchive and libfuse3 (and their ~30 dependencies) at
// every start cost each command ~16 ms; they are bound when a command needs
// them, so the program must not name them as start-up dependencies.
TEST(DynamicLibraryTest, QmSnapDoesNotLoadCurlArchiveOrFuseAtStart) {
  ShellResult r = RunShell("LD_TRACE_LOADED_OBJECTS=1 " QMSNAP_BINARY);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_NE(r.out.find("libsqlite3"), std::string::npos) << "the listing works: " << r.out;
  for (const char* lib : {"libcurl", "libarchive", "libfuse3"})
    EXPECT_EQ(r.out.find(lib), std::string::npos) << lib << " is loaded at start:\n" << r.out;
}

}  // namespace
}  // namespace qm
