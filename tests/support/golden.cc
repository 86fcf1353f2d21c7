#include "tests/support/golden.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/support/test_util.h"

namespace qm {

namespace {
std::string GoldenPath(const std::string& name) {
  return std::string(QMSNAP_GOLDEN_DIR) + "/" + name;
}
}  // namespace

void ExpectMatchesGolden(const std::string& name, ByteView actual) {
  const char* update = std::getenv("QMSNAP_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    WriteStringToFile(GoldenPath(name), std::string(AsString(actual)));
    return;
  }
  std::string expected = ReadFileToString(GoldenPath(name));
  EXPECT_TRUE(expected == AsString(actual))
      << "encoding differs from tests/golden/" << name << " (" << actual.size() << " bytes vs " << expected.size()
      << "); if the format change is deliberate, bump the version, document it and rerun with QMSNAP_UPDATE_GOLDEN=1";
}

std::string ReadGolden(const std::string& name) {
  return ReadFileToString(GoldenPath(name));
}

}  // namespace qm
