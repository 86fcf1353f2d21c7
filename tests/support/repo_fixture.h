// A test fixture holding a fresh repository, open for writing, in a
// temporary directory: for tests of what is built on Repository.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/repo/repository.h"
#include "tests/support/test_util.h"

namespace qm {

class WritableRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/repo";
    ASSERT_TRUE(Repository::Init(Env::Default(), root_, RepoConfig{}).ok());
    auto r = Repository::Open(Env::Default(), root_, OpenMode::kWrite);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    repo_ = std::move(r).value();
  }
  TempDir dir_;
  std::string root_;
  std::unique_ptr<Repository> repo_;
};

}  // namespace qm
