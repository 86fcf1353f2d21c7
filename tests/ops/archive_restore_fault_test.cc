// RestoreArchive under a failure at every step: whichever write, sync,
// rename or mkdir fails, the run returns the error and the target is left
// as it was found (here: absent), never half restored.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/ops/archive_restorer.h"
#include "tests/support/archive_craft.h"
#include "tests/support/fault_injection_env.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

TEST(ArchiveRestoreFaultTest, AFailureAtEveryStepLeavesNoTargetBehind) {
  TempDir dir;
  const std::string archive = CraftArchive(dir.path(),
                                           "add('20250129_143022/data', type=tarfile.DIRTYPE)\n"
                                           "add('20250129_143022/data/a.bin', b'a'*300000)\n"
                                           "add('20250129_143022/config.yaml', b'k: v\\n')\n"
                                           "info([('data/a.bin', b'a'*300000), ('config.yaml', b'k: v\\n')])\n");
  const std::string target = dir.path() + "/target";
  FaultInjectionEnv env;
  ArchiveRestoreOptions opt;
  opt.archive = archive;
  opt.target = target;
  auto clean = RestoreArchive(&env, opt);
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  ASSERT_TRUE(clean->report.ok()) << clean->report.problems.front();
  const auto expected = FilesUnder(target);
  ASSERT_EQ(expected.size(), 2u);
  const uint64_t ops = env.mutating_ops();
  ASSERT_GT(ops, 8u);
  for (uint64_t n = 1; n <= ops; n++) {
    fs::remove_all(target);
    env.ResetCounter();
    env.FailAtOp(n);
    auto r = RestoreArchive(&env, opt);
    env.FailAtOp(0);
    if (r.ok() && r->report.ok()) {
      // Only failures the run may shrug off (none are expected here).
      EXPECT_EQ(FilesUnder(target), expected) << "op " << n;
      continue;
    }
    EXPECT_FALSE(r.ok()) << "op " << n << ": a failed write is an error, not an archive problem";
    EXPECT_FALSE(fs::exists(target)) << "op " << n << " left a partial target: " << r.status().ToString();
  }
}

}  // namespace
}  // namespace qm
