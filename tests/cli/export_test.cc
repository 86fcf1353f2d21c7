// `qm-snap export`: the guide's offsite archive, read back with the plain
// tools an operator has on a bare machine (GNU tar, bsdtar, Python's
// tarfile, sha256sum, sqlite3), byte-identical on every export, and local
// retention that removes only qm-snap's own old archives.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

ShellResult Qm(const std::string& args) {
  return RunShell("TZ=UTC " QMSNAP_BINARY " " + args);
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/src";
    repo_ = dir_.path() + "/repo";
    fs::create_directories(src_ + "/data");
    fs::create_directories(src_ + "/config_backups");
    WriteStringToFile(src_ + "/config.yaml", "exchange:\n  api_key: FAKE\n");
    WriteStringToFile(src_ + "/config_backups/config_20250128_100000.yaml", "old: 1\n");
    MakeSqliteDatabase(src_ + "/data/quantmesh.db", 20000, 1);
    MakeSqliteDatabase(src_ + "/data/auth.db", 50, 2);
    MakeSqliteDatabase(src_ + "/logs.db", 3000, 3);
    ASSERT_EQ(0, Qm("init --repo " + repo_).code);
    auto b = Qm("backup --repo " + repo_ + " --source " + src_ + " --time 20250129_143022");
    ASSERT_EQ(0, b.code) << b.err;
  }
  // Exports latest into `out`; returns the archive's path.
  std::string Export(const std::string& out, const std::string& extra = "") {
    auto r = Qm("export latest --repo " + repo_ + " --output-dir " + out + " " + extra);
    EXPECT_EQ(0, r.code) << r.err;
    return out + "/20250129_143022.tar.gz";
  }
  TempDir dir_;
  std::string src_, repo_;
};

TEST_F(ExportTest, ArchiveIsNamedBySnapshotTimeAndPassesSha256sum) {
  const std::string out = dir_.path() + "/offsite";
  const std::string archive = Export(out);
  ASSERT_TRUE(fs::exists(archive));
  ASSERT_TRUE(fs::exists(out + "/20250129_143022.sha256"));
  auto c = RunShell("cd " + out + " && sha256sum -c 20250129_143022.sha256");
  EXPECT_EQ(0, c.code) << c.out << c.err;
  EXPECT_NE(c.out.find("20250129_143022.tar.gz: OK"), std::string::npos) << c.out;
  struct stat st;
  ASSERT_EQ(0, stat(archive.c_str(), &st));
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the archive holds API keys";
}

TEST_F(ExportTest, GnuTarBsdtarAndPythonExtractTheSourceFilesByteForByte) {
  const std::string archive = Export(dir_.path() + "/offsite");
  auto list = RunShell("tar -tzf " + archive);
  ASSERT_EQ(0, list.code) << list.err;
  for (const char* p : {"20250129_143022/\n", "20250129_143022/config.yaml\n", "20250129_143022/data/quantmesh.db\n",
                        "20250129_143022/logs.db\n", "20250129_143022/backup_info.json\n"})
    EXPECT_NE(list.out.find(p), std::string::npos) << p << " not in\n" << list.out;

  const std::map<std::string, std::string> source = FilesUnder(src_);
  const std::vector<std::pair<std::string, std::string>> readers = {
      {"gnu", "tar -xzf " + archive + " -C "},
      {"bsdtar", "bsdtar -xf " + archive + " -C "},
      {"python", "python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' " + archive + " "},
  };
  for (const auto& [name, cmd] : readers) {
    const std::string to = dir_.path() + "/x-" + name;
    fs::create_directories(to);
    auto x = RunShell(cmd + to);
    ASSERT_EQ(0, x.code) << name << ": " << x.err;
    auto got = FilesUnder(to + "/20250129_143022");
    got.erase("backup_info.json");
    EXPECT_EQ(got, source) << name;
  }
  auto check = RunShell("sqlite3 " + dir_.path() + "/x-gnu/20250129_143022/data/quantmesh.db 'PRAGMA integrity_check'");
  EXPECT_EQ(check.out, "ok\n") << check.err;
}

TEST_F(ExportTest, BackupInfoListsEveryFileWithItsSha256AndDatabaseCheck) {
  const std::string archive = Export(dir_.path() + "/offsite");
  // Checked by a separate implementation (Python's hashlib) against the extracted files.
  const std::string script =
      "import json,hashlib,sys,tarfile\n"
      "t=tarfile.open(sys.argv[1])\n"
      "info=json.load(t.extractfile('20250129_143022/backup_info.json'))\n"
      "assert info['format']=='qm-snap-archive' and info['format_version']==1\n"
      "assert info['time']=='2025-01-29T14:30:22Z', info['time']\n"
      "assert len(info['snapshot_id'])==64\n"
      "n=0\n"
      "for f in info['files']:\n"
      "  data=t.extractfile('20250129_143022/'+f['path']).read()\n"
      "  assert len(data)==f['size'], f['path']\n"
      "  assert hashlib.sha256(data).hexdigest()==f['sha256'], f['path']\n"
      "  n+=1\n"
      "dbs={f['path']:f['database'] for f in info['files'] if 'database' in f}\n"
      "assert set(dbs)=={'data/quantmesh.db','data/auth.db','logs.db'}, dbs\n"
      "assert all(d['quick_check']=='ok' and d['page_size']>0 for d in dbs.values()), dbs\n"
      "print(n)\n";
  WriteStringToFile(dir_.path() + "/check.py", script);
  auto r = RunShell("python3 " + dir_.path() + "/check.py " + archive);
  EXPECT_EQ(0, r.code) << r.err;
  EXPECT_EQ(r.out, "5\n");
}

TEST_F(ExportTest, ExportingTwiceGivesIdenticalBytesWhateverThreadsOrTimeZone) {
  const std::string a = Export(dir_.path() + "/a", "--threads 1");
  const std::string b = Export(dir_.path() + "/b", "--threads 4");
  auto c = RunShell("TZ=Asia/Shanghai " QMSNAP_BINARY " export latest --repo " + repo_ + " --output-dir " +
                    dir_.path() + "/c");
  ASSERT_EQ(0, c.code) << c.err;
  const std::string first = ReadFileToString(a);
  ASSERT_FALSE(first.empty());
  EXPECT_TRUE(first == ReadFileToString(b)) << "thread count changed the bytes";
  EXPECT_TRUE(first == ReadFileToString(dir_.path() + "/c/20250129_143022.tar.gz")) << "time zone changed the bytes";
  EXPECT_EQ(ReadFileToString(dir_.path() + "/a/20250129_143022.sha256"),
            ReadFileToString(dir_.path() + "/b/20250129_143022.sha256"));
}

TEST_F(ExportTest, ZstdAndXzFormatsAreReadByTar) {
  for (const auto& [format, flag] :
       std::vector<std::pair<std::string, std::string>>{{"tar.zst", "--zstd"}, {"tar.xz", "-J"}}) {
    const std::string out = dir_.path() + "/" + format;
    auto r = Qm("export latest --repo " + repo_ + " --output-dir " + out + " --format " + format);
    ASSERT_EQ(0, r.code) << r.err;
    const std::string archive = out + "/20250129_143022." + format;
    EXPECT_EQ(0, RunShell("cd " + out + " && sha256sum -c 20250129_143022.sha256").code) << format;
    fs::create_directories(out + "/x");
    auto x = RunShell("tar " + flag + " -xf " + archive + " -C " + out + "/x");
    ASSERT_EQ(0, x.code) << format << ": " << x.err;
    EXPECT_EQ(ReadFileToString(out + "/x/20250129_143022/data/quantmesh.db"),
              ReadFileToString(src_ + "/data/quantmesh.db"))
        << format;
  }
}

TEST_F(ExportTest, RetentionRemovesOnlyOldArchivesMadeByQmSnap) {
  const std::string out = dir_.path() + "/offsite";
  fs::create_directories(out);
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24 * 40);
  const auto recent = fs::file_time_type::clock::now() - std::chrono::hours(24 * 10);
  const std::vector<std::string> old_ours = {"20241001_000000.tar.gz", "20241001_000000.sha256",
                                             "20241002_000000.tar.zst"};
  const std::vector<std::string> kept = {"20241101_000000.tar.gz", "notes.txt", "20241001_000000.tar.gz.bak",
                                         "backup.tar.gz"};
  for (const auto& n : old_ours) {
    WriteStringToFile(out + "/" + n, "x");
    fs::last_write_time(out + "/" + n, old_time);
  }
  for (const auto& n : kept) {
    WriteStringToFile(out + "/" + n, "x");
    fs::last_write_time(out + "/" + n, n == "20241101_000000.tar.gz" ? recent : old_time);
  }
  Export(out, "--keep-days 30");
  for (const auto& n : old_ours) EXPECT_FALSE(fs::exists(out + "/" + n)) << n;
  for (const auto& n : kept) EXPECT_TRUE(fs::exists(out + "/" + n)) << n;
  EXPECT_TRUE(fs::exists(out + "/20250129_143022.tar.gz"));
  // -1 keeps everything.
  fs::last_write_time(out + "/20241101_000000.tar.gz", old_time);
  Export(out, "--keep-days -1");
  EXPECT_TRUE(fs::exists(out + "/20241101_000000.tar.gz"));
}

TEST_F(ExportTest, BadFormatOrLevelIsAClearErrorAndWritesNothing) {
  const std::string out = dir_.path() + "/offsite";
  auto f = Qm("export latest --repo " + repo_ + " --output-dir " + out + " --format zip");
  EXPECT_NE(0, f.code);
  EXPECT_NE(f.err.find("use tar.gz, tar.zst or tar.xz"), std::string::npos) << f.err;
  auto l = Qm("export latest --repo " + repo_ + " --output-dir " + out + " --level 42");
  EXPECT_NE(0, l.code);
  EXPECT_NE(l.err.find("1..12"), std::string::npos) << l.err;
  EXPECT_FALSE(fs::exists(out + "/20250129_143022.tar.gz"));
}

}  // namespace
}  // namespace qm
