// Inspection without restoring: ls (with tables and row counts for
// databases), cat, find, diff (paths, pages and table deltas), stats, the
// @TIME snapshot reference, and restore --at picking the right snapshot.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/src";
    repo_ = dir_.path() + "/repo";
    fs::create_directories(src_ + "/data");
    WriteStringToFile(src_ + "/config.yaml", "exchange:\n  api_key: ONE\n");
    MakeSqliteDatabase(src_ + "/data/quantmesh.db", 5000, 1);
    ASSERT_EQ(0, Qm("init --repo " + repo_).code);
    Backup("20250129_100000");
    // An hour later: 250 more trades, a changed config, a new file.
    MakeSqliteDatabase(src_ + "/data/quantmesh.db", 250, 2);
    WriteStringToFile(src_ + "/config.yaml", "exchange:\n  api_key: TWO\n");
    WriteStringToFile(src_ + "/data/notes.txt", "hello\n");
    Backup("20250129_110000", " --path data/notes.txt");
    fs::remove(src_ + "/data/notes.txt");
    Backup("20250129_120000");
  }
  void Backup(const std::string& time, const std::string& extra = "") {
    auto b = Qm("backup --repo " + repo_ + " --source " + src_ + " --time " + time + extra);
    ASSERT_EQ(0, b.code) << b.err;
  }
  std::string Cat(const std::string& snap, const std::string& path) {
    auto r = Qm("cat --repo " + repo_ + " " + snap + " " + path);
    EXPECT_EQ(0, r.code) << r.err;
    return r.out;
  }
  TempDir dir_;
  std::string src_, repo_;
};

TEST_F(InspectTest, CatGivesTheFileAsItWasInEachSnapshot) {
  EXPECT_EQ(Cat("@2025-01-29T10:30:00Z", "config.yaml"), "exchange:\n  api_key: ONE\n");
  EXPECT_EQ(Cat("latest", "/config.yaml"), "exchange:\n  api_key: TWO\n");
  // The database comes out byte for byte.
  auto r = RunShell("TZ=UTC " QMSNAP_BINARY " cat --repo " + repo_ + " latest data/quantmesh.db > " + dir_.path() +
                    "/q.db && cmp " + dir_.path() + "/q.db " + src_ + "/data/quantmesh.db");
  EXPECT_EQ(0, r.code) << r.err << r.out;
  auto dir = Qm("cat --repo " + repo_ + " latest data");
  EXPECT_EQ(2, dir.code);
  EXPECT_NE(dir.err.find("is a directory"), std::string::npos) << dir.err;
  auto missing = Qm("cat --repo " + repo_ + " latest data/none.db");
  EXPECT_EQ(1, missing.code);
  EXPECT_NE(missing.err.find("no \"data/none.db\" in snapshot"), std::string::npos) << missing.err;
}

TEST_F(InspectTest, LsListsTheTreeAndLongShowsADatabasesTablesWithRowCounts) {
  auto plain = Qm("ls --repo " + repo_ + " latest");
  ASSERT_EQ(0, plain.code) << plain.err;
  EXPECT_EQ(plain.out, "config.yaml\ndata/\ndata/quantmesh.db\n");
  auto lng = Qm("ls --repo " + repo_ + " latest data --long");
  ASSERT_EQ(0, lng.code) << lng.err;
  EXPECT_NE(lng.out.find("data/quantmesh.db  [SQLite, page size 4096"), std::string::npos) << lng.out;
  EXPECT_NE(lng.out.find("table trades"), std::string::npos) << lng.out;
  EXPECT_NE(lng.out.find(" 5250 rows"), std::string::npos) << lng.out;
  auto json = Qm("ls --repo " + repo_ + " @2025-01-29T10:00:00Z data/quantmesh.db --long --json");
  ASSERT_EQ(0, json.code) << json.err;
  EXPECT_NE(json.out.find("\"tables\":[{\"name\":\"trades\",\"rows\":5000}]"), std::string::npos) << json.out;
}

TEST_F(InspectTest, FindNamesEverySnapshotHoldingAMatchingPath) {
  auto r = Qm("find --repo " + repo_ + " notes.txt --json");
  ASSERT_EQ(0, r.code) << r.err;
  EXPECT_NE(r.out.find("\"snapshot_time\":\"2025-01-29T11:00:00Z\",\"path\":\"data/notes.txt\""), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("2025-01-29T10:00:00Z"), std::string::npos) << "only the 11:00 snapshot has it";
  auto dbs = Qm("find --repo " + repo_ + " '*.db'");
  ASSERT_EQ(0, dbs.code);
  EXPECT_NE(dbs.out.find("3 match(es)"), std::string::npos) << dbs.out;
  auto by_path = Qm("find --repo " + repo_ + " 'data/*.txt'");
  EXPECT_NE(by_path.out.find("1 match(es)"), std::string::npos) << by_path.out;
}

TEST_F(InspectTest, DiffShowsPathsPagesAndTableRowDeltas) {
  auto r = Qm("diff --repo " + repo_ + " @2025-01-29T10:00:00Z @2025-01-29T11:00:00Z");
  ASSERT_EQ(0, r.code) << r.err;
  EXPECT_NE(r.out.find("M  config.yaml"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+  data/notes.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("M  data/quantmesh.db"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("table trades                       5000 -> 5250 rows (+250)"), std::string::npos) << r.out;
  auto back = Qm("diff --repo " + repo_ + " @2025-01-29T11:00:00Z latest --json");
  ASSERT_EQ(0, back.code) << back.err;
  EXPECT_EQ(back.out, "[{\"change\":\"removed\",\"path\":\"data/notes.txt\",\"size_before\":6,\"size_after\":0}]\n");
  // The pages changed are counted, and are far fewer than the database's.
  auto json = Qm("diff --repo " + repo_ + " @2025-01-29T10:00:00Z @2025-01-29T11:00:00Z --json --no-tables");
  const size_t at = json.out.find("\"pages_changed\":");
  ASSERT_NE(at, std::string::npos) << json.out;
  const long pages = std::stol(json.out.substr(at + 16));
  EXPECT_GT(pages, 0);
  EXPECT_LT(pages, 40) << json.out;
}

TEST_F(InspectTest, StatsReportsLogicalAndStoredSizes) {
  auto s = Qm("stats --repo " + repo_ + " latest --json");
  ASSERT_EQ(0, s.code) << s.err;
  const uint64_t logical = fs::file_size(src_ + "/config.yaml") + fs::file_size(src_ + "/data/quantmesh.db");
  EXPECT_NE(s.out.find("\"files\":2,\"bytes_logical\":" + std::to_string(logical)), std::string::npos) << s.out;
  auto all = Qm("stats --repo " + repo_ + " --json");
  ASSERT_EQ(0, all.code) << all.err;
  EXPECT_NE(all.out.find("\"snapshots\":3"), std::string::npos) << all.out;
}

TEST_F(InspectTest, RestoreAtPicksTheLastSnapshotAtOrBeforeTheTime) {
  auto r = Qm("restore --repo " + repo_ + " --at '2025-01-29 11:59' --target " + dir_.path() + "/at");
  ASSERT_EQ(0, r.code) << r.err;
  EXPECT_NE(r.out.find("taken 2025-01-29T11:00:00+00:00, 59m 0s before that time"), std::string::npos) << r.out;
  EXPECT_EQ(ReadFileToString(dir_.path() + "/at/data/notes.txt"), "hello\n");
  auto exact = Qm("restore --repo " + repo_ + " --at 20250129_100000 --target " + dir_.path() + "/at10");
  ASSERT_EQ(0, exact.code) << exact.err;
  EXPECT_EQ(ReadFileToString(dir_.path() + "/at10/config.yaml"), "exchange:\n  api_key: ONE\n");
  auto early = Qm("restore --repo " + repo_ + " --at 2025-01-29T09:00:00Z --target " + dir_.path() + "/early");
  EXPECT_EQ(1, early.code);
  EXPECT_NE(early.err.find("no snapshot was taken at or before 2025-01-29T09:00:00"), std::string::npos) << early.err;
  EXPECT_FALSE(fs::exists(dir_.path() + "/early"));
  auto both = Qm("restore --repo " + repo_ + " latest --at 2h --target " + dir_.path() + "/x");
  EXPECT_EQ(2, both.code);
}

}  // namespace
}  // namespace qm
