// Reading an export archive back: `restore ARCHIVE --target DIR` (the
// bare-machine drill, no store) and `import ARCHIVE --repo R`. Archives are
// untrusted input: every hostile shape is refused with a clear error, and
// nothing is written outside the target (nor, on refusal, inside it).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "tests/support/archive_craft.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

class ArchiveRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/src";
    repo_ = dir_.path() + "/repo";
    fs::create_directories(src_ + "/data");
    fs::create_directories(src_ + "/config_backups");
    fs::create_directories(src_ + "/logs");
    WriteStringToFile(src_ + "/config.yaml", "exchange:\n  api_key: FAKE\n");
    chmod((src_ + "/config.yaml").c_str(), 0640);
    WriteStringToFile(src_ + "/config_backups/config_20250128_100000.yaml", "old: 1\n");
    WriteStringToFile(src_ + "/logs/quantmesh-2025-01-29.log", "started\n");
    MakeSqliteDatabase(src_ + "/data/quantmesh.db", 20000, 1);
    MakeSqliteDatabase(src_ + "/data/auth.db", 50, 2);
    MakeSqliteDatabase(src_ + "/logs.db", 3000, 3);
    ASSERT_EQ(0, Qm("init --repo " + repo_).code);
    auto b = Qm("backup --repo " + repo_ + " --source " + src_ + " --time 20250129_143022");
    ASSERT_EQ(0, b.code) << b.err;
    auto e = Qm("export latest --repo " + repo_ + " --output-dir " + dir_.path() + "/offsite");
    ASSERT_EQ(0, e.code) << e.err;
    archive_ = dir_.path() + "/offsite/20250129_143022.tar.gz";
  }
  TempDir dir_;
  std::string src_, repo_, archive_;
};

TEST_F(ArchiveRestoreTest, RestoreFromArchiveNeedsNoStoreAndGivesTheSourceBackWithModesAndTimes) {
  const std::string target = dir_.path() + "/bare/restored";
  fs::create_directories(dir_.path() + "/bare");
  // Run where no store exists, as on the bare machine of a drill.
  auto r = Qm("restore " + archive_ + " --target " + target, "cd " + dir_.path() + "/bare &&");
  ASSERT_EQ(0, r.code) << r.err;
  EXPECT_NE(r.out.find("6 files (3 databases pass integrity_check)"), std::string::npos) << r.out;
  EXPECT_EQ(FilesUnder(target), FilesUnder(src_));
  EXPECT_EQ(Names(target), (std::set<std::string>{"config.yaml", "config_backups", "data", "logs", "logs.db"}))
      << "no staging folder, no backup_info.json, no -wal/-shm";
  struct stat got, want;
  ASSERT_EQ(0, stat((target + "/config.yaml").c_str(), &got));
  ASSERT_EQ(0, stat((src_ + "/config.yaml").c_str(), &want));
  EXPECT_EQ(got.st_mode & 07777, 0640u);
  EXPECT_EQ(got.st_mtim.tv_sec, want.st_mtim.tv_sec);
  auto check = RunShell("sqlite3 " + target + "/data/quantmesh.db 'PRAGMA integrity_check'");
  EXPECT_EQ(check.out, "ok\n") << check.err;
  EXPECT_FALSE(fs::exists(target + "/data/quantmesh.db-wal"));
}

TEST_F(ArchiveRestoreTest, RestoreFromArchiveRefusesANonEmptyTarget) {
  const std::string target = dir_.path() + "/busy";
  fs::create_directories(target);
  WriteStringToFile(target + "/keep.txt", "mine");
  auto r = Qm("restore " + archive_ + " --target " + target);
  EXPECT_EQ(2, r.code) << r.err;
  EXPECT_NE(r.err.find("is not empty"), std::string::npos) << r.err;
  EXPECT_EQ(Names(target), std::set<std::string>{"keep.txt"});
}

// Each hostile archive: restore exits 1 naming the defect and saying nothing
// was restored; the target is left as found (absent, or empty); and nothing
// appears beside it, where every escaping name below would land.
TEST_F(ArchiveRestoreTest, HostileArchivesAreRefusedAndNothingIsWrittenAnywhere) {
  struct Case {
    std::string entries, expect;
  };
  const std::string top = "20250129_143022/";
  const std::vector<Case> cases = {
      {"add('" + top + "../evil', b'x')\n", "has an empty, \".\" or \"..\" component"},
      {"add('" + top + "../../evil', b'x')\n", "has an empty, \".\" or \"..\" component"},
      {"add('/tmp/qm-snap-test-absolute-evil', b'x')\n", "is an absolute path"},
      {"add('other/evil', b'x')\n", "is outside the top folder"},
      {"add('" + top + "l', type=tarfile.SYMTYPE, link='../../evil')\n", "points outside the archive"},
      {"add('" + top + "l', type=tarfile.SYMTYPE, link='/etc')\n", "points outside the archive"},
      // Lexically d/s1/../../evil stays inside, but d/s1 is itself a link to
      // "..": followed for real, it leaves the target.
      {"add('" + top + "d', type=tarfile.DIRTYPE)\nadd('" + top + "d/s1', type=tarfile.SYMTYPE, link='..')\nadd('" +
           top + "s2', type=tarfile.SYMTYPE, link='d/s1/../../evil')\n",
       "points through another symlink"},
      // A file written below a link would follow it.
      {"add('" + top + "l', type=tarfile.SYMTYPE, link='.')\nadd('" + top + "l/evil', b'x')\n", "lies below symlink"},
      {"add('" + top + "h', type=tarfile.LNKTYPE, link='/etc/passwd')\n", "is a hard link"},
      {"add('" + top + "dev', type=tarfile.CHRTYPE)\n", "is a device"},
      {"add('" + top + "fifo', type=tarfile.FIFOTYPE)\n", "is a device, FIFO"},
      {"add('" + top + "a', b'1')\nadd('" + top + "a', b'2')\n", "appears twice"},
      {"add('" + top + "a', b'1')\nadd('" + top + "a/b', b'2')\n", "cannot be placed"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string d = dir_.path() + "/case" + std::to_string(n++);
    fs::create_directories(d);
    const std::string archive = CraftArchive(d, c.entries + "info([])\n");
    const std::set<std::string> before = Names(d);
    auto r = Qm("restore " + archive + " --target " + d + "/target");
    EXPECT_EQ(1, r.code) << c.entries;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.entries << "\n" << r.err;
    EXPECT_NE(r.err.find("nothing was restored"), std::string::npos) << r.err;
    EXPECT_EQ(Names(d), before) << c.entries << ": the target (or an escaping file) was left behind";
    EXPECT_FALSE(fs::exists(dir_.path() + "/evil")) << c.entries;
    EXPECT_FALSE(fs::exists("/tmp/qm-snap-test-absolute-evil")) << c.entries;
  }
}

TEST_F(ArchiveRestoreTest, CorruptTruncatedMismatchedOrBombArchivesAreRefusedAndTheTargetStaysEmpty) {
  const std::string off = dir_.path() + "/offsite";
  const std::string target = dir_.path() + "/empty-target";
  // `expect` is "a|b" when either sentence is right: a flipped byte may
  // break the deflate stream or decode to different bytes.
  auto refused = [&](const std::string& archive, const std::string& expect) {
    fs::create_directories(target);
    auto r = Qm("restore " + archive + " --target " + target);
    EXPECT_EQ(1, r.code) << expect;
    const size_t bar = expect.find('|');
    const bool named = bar == std::string::npos ? r.err.find(expect) != std::string::npos
                                                : (r.err.find(expect.substr(0, bar)) != std::string::npos ||
                                                   r.err.find(expect.substr(bar + 1)) != std::string::npos);
    EXPECT_TRUE(named) << expect << "\n" << r.err;
    EXPECT_NE(r.err.find("nothing was restored"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_empty(target)) << expect << ": an existing empty target must stay empty";
  };
  // The checksum file disagrees with the archive.
  const std::string good_sum = ReadFileToString(off + "/20250129_143022.sha256");
  WriteStringToFile(off + "/20250129_143022.sha256", std::string(64, '0') + "  20250129_143022.tar.gz\n");
  refused(archive_, "does not match 20250129_143022.sha256");
  // No checksum file at all.
  fs::remove(off + "/20250129_143022.sha256");
  refused(archive_, "no checksum file");
  // A byte flipped inside the compressed stream (checksum file made to agree).
  {
    std::string bytes = ReadFileToString(archive_);
    bytes[bytes.size() / 2] ^= 0x5a;
    WriteStringToFile(archive_, bytes);
    RunShell("cd " + off + " && sha256sum 20250129_143022.tar.gz > 20250129_143022.sha256");
    refused(archive_, "corrupt|does not match its SHA-256 in backup_info.json");
  }
  // Truncated to half.
  fs::resize_file(archive_, fs::file_size(archive_) / 2);
  RunShell("cd " + off + " && sha256sum 20250129_143022.tar.gz > 20250129_143022.sha256");
  refused(archive_, "truncated or corrupt");
  // A decompression bomb: 64 MiB of zeros in a few KiB.
  const std::string b = dir_.path() + "/bomb";
  fs::create_directories(b);
  refused(CraftArchive(b, "add('20250129_143022/zeros', bytes(64<<20))\ninfo([])\n", "zstd -19 -q"),
          "decompression bomb");
  (void)good_sum;
}

TEST_F(ArchiveRestoreTest, ImportBringsTheArchiveInWithItsOriginalTimeHostSourceAndTags) {
  const std::string r2 = dir_.path() + "/repo2";
  ASSERT_EQ(0, Qm("init --repo " + r2).code);
  auto im = Qm("import " + archive_ + " --repo " + r2 + " --tag drill");
  ASSERT_EQ(0, im.code) << im.err;
  auto snaps = Qm("snapshots --json --repo " + r2);
  ASSERT_EQ(0, snaps.code) << snaps.err;
  auto orig = Qm("snapshots --json --repo " + repo_);
  WriteStringToFile(dir_.path() + "/a.json", snaps.out);
  WriteStringToFile(dir_.path() + "/b.json", orig.out);
  auto cmp = RunShell(
      "python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]));"
      "assert len(a)==1 and len(b)==1, (a,b); a=a[0]; b=b[0];"
      "assert a[\"time_unix\"]==b[\"time_unix\"], (a,b);"
      "assert a[\"hostname\"]==b[\"hostname\"] and a[\"source\"]==b[\"source\"], (a,b);"
      "assert a[\"tags\"]==[\"drill\",\"imported\"], a[\"tags\"];"
      "assert a[\"files\"]==b[\"files\"] and a[\"bytes_logical\"]==b[\"bytes_logical\"], (a,b)' " +
      dir_.path() + "/a.json " + dir_.path() + "/b.json");
  EXPECT_EQ(0, cmp.code) << cmp.err;
  // Its content is the archive's: restored, it is the source; exported
  // again, it gives the same files (backup_info.json names a new id).
  ASSERT_EQ(0, Qm("restore latest --repo " + r2 + " --target " + dir_.path() + "/from-import").code);
  EXPECT_EQ(FilesUnder(dir_.path() + "/from-import"), FilesUnder(src_));
  ASSERT_EQ(0, Qm("export latest --repo " + r2 + " --output-dir " + dir_.path() + "/again").code);
  for (const char* x : {"x1", "x2"}) fs::create_directories(dir_.path() + "/" + x);
  ASSERT_EQ(0, RunShell("tar -xzf " + archive_ + " -C " + dir_.path() + "/x1").code);
  ASSERT_EQ(0, RunShell("tar -xzf " + dir_.path() + "/again/20250129_143022.tar.gz -C " + dir_.path() + "/x2").code);
  auto a = FilesUnder(dir_.path() + "/x1/20250129_143022");
  auto b = FilesUnder(dir_.path() + "/x2/20250129_143022");
  a.erase("backup_info.json");
  b.erase("backup_info.json");
  EXPECT_EQ(a, b);
  EXPECT_TRUE(fs::is_empty(r2 + "/tmp")) << "the extracted archive must be removed";
}

TEST_F(ArchiveRestoreTest, ImportRefusesAHostileArchiveAndStoresNothing) {
  const std::string d = dir_.path() + "/hostile";
  fs::create_directories(d);
  const std::string archive = CraftArchive(d,
                                           "add('20250129_143022/config.yaml', b'api_key: EVIL\\n')\n"
                                           "add('20250129_143022/../evil', b'x')\n"
                                           "info([('config.yaml', b'api_key: EVIL\\n')])\n");
  const std::string r2 = dir_.path() + "/repo2";
  ASSERT_EQ(0, Qm("init --repo " + r2).code);
  auto im = Qm("import " + archive + " --repo " + r2);
  EXPECT_EQ(1, im.code);
  EXPECT_NE(im.err.find("has an empty, \".\" or \"..\" component"), std::string::npos) << im.err;
  EXPECT_NE(im.err.find("nothing was stored"), std::string::npos) << im.err;
  auto snaps = Qm("snapshots --json --repo " + r2);
  EXPECT_EQ(snaps.out, "[]\n");
  EXPECT_TRUE(fs::is_empty(r2 + "/tmp"));
  EXPECT_FALSE(fs::exists(r2 + "/evil"));
  EXPECT_FALSE(fs::exists(r2 + "/tmp/evil"));
}

TEST_F(ArchiveRestoreTest, ImportingASnapshotTheStoreAlreadyHoldsIsRefused) {
  auto im = Qm("import " + archive_ + " --repo " + repo_);
  EXPECT_EQ(1, im.code);
  EXPECT_NE(im.err.find("this store already holds its snapshot"), std::string::npos) << im.err;
  auto snaps = Qm("snapshots --repo " + repo_);
  EXPECT_NE(snaps.out.find("1 snapshot(s)"), std::string::npos) << snaps.out;
}

TEST_F(ArchiveRestoreTest, AnImportFolderLeftByACrashIsClearedByTheNextWriter) {
  // What a kill -9 during import leaves: a folder tree under tmp/, with a
  // read-only directory restored from the archive.
  const std::string left = repo_ + "/tmp/import-1234-5678";
  fs::create_directories(left + "/config_backups");
  WriteStringToFile(left + "/config_backups/a.yaml", "x");
  chmod((left + "/config_backups").c_str(), 0500);
  auto b = Qm("backup --repo " + repo_ + " --source " + src_);
  EXPECT_EQ(0, b.code) << b.err;
  EXPECT_FALSE(fs::exists(left));
}

}  // namespace
}  // namespace qm
