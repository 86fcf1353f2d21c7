// `qm-snap export`: the guide's offsite archive, read back with the plain
// tools an operator has on a bare machine (GNU tar, bsdtar, Python's
// tarfile, sha256sum, sqlite3), byte-identical on every export, and local
// retention that removes only qm-snap's own old archives.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/support/archive_craft.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

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

// ---- verify: the archive checked with no store, and hostile archives refused ----

ShellResult Verify(const std::string& archive) {
  return Qm("verify " + archive);
}

TEST_F(ExportTest, VerifyPassesForAFreshExportInEveryFormat) {
  auto gz = Verify(Export(dir_.path() + "/offsite"));
  EXPECT_EQ(0, gz.code) << gz.err;
  EXPECT_NE(gz.out.find("5 files (3 databases pass integrity_check)"), std::string::npos) << gz.out;
  auto r = Qm("export latest --repo " + repo_ + " --output-dir " + dir_.path() + "/zst --format tar.zst");
  ASSERT_EQ(0, r.code) << r.err;
  auto zst = Verify(dir_.path() + "/zst/20250129_143022.tar.zst");
  EXPECT_EQ(0, zst.code) << zst.err;
}

TEST_F(ExportTest, VerifyNamesAChecksumMismatchAndAMissingChecksumFile) {
  const std::string out = dir_.path() + "/offsite";
  const std::string archive = Export(out);
  WriteStringToFile(out + "/20250129_143022.sha256", std::string(64, '0') + "  20250129_143022.tar.gz\n");
  auto bad = Verify(archive);
  EXPECT_EQ(1, bad.code);
  EXPECT_NE(bad.err.find("does not match 20250129_143022.sha256"), std::string::npos) << bad.err;
  fs::remove(out + "/20250129_143022.sha256");
  auto missing = Verify(archive);
  EXPECT_EQ(1, missing.code);
  EXPECT_NE(missing.err.find("no checksum file"), std::string::npos) << missing.err;
}

TEST_F(ExportTest, VerifyRefusesATruncatedArchive) {
  const std::string out = dir_.path() + "/offsite";
  const std::string archive = Export(out);
  fs::resize_file(archive, fs::file_size(archive) / 2);
  RunShell("cd " + out + " && sha256sum 20250129_143022.tar.gz > 20250129_143022.sha256");  // only truncation is wrong
  auto r = Verify(archive);
  EXPECT_EQ(1, r.code);
  EXPECT_NE(r.err.find("truncated or corrupt"), std::string::npos) << r.err;
}

TEST_F(ExportTest, VerifyFindsAFileThatDiffersFromBackupInfo) {
  const std::string d = dir_.path() + "/c";
  fs::create_directories(d);
  const std::string a = CraftArchive(d,
                                     "add('20250129_143022/config.yaml', b'api_key: EVIL\\n')\n"
                                     "info([('config.yaml', b'api_key: GOOD\\n')])\n");
  auto r = Verify(a);
  EXPECT_EQ(1, r.code);
  EXPECT_NE(r.err.find("\"config.yaml\" does not match its SHA-256 in backup_info.json"), std::string::npos) << r.err;
}

TEST_F(ExportTest, VerifyRunsIntegrityCheckOnEveryDatabase) {
  const std::string d = dir_.path() + "/c";
  fs::create_directories(d);
  // A real database with garbage over its second page; backup_info.json agrees with the bytes.
  const std::string db = src_ + "/data/auth.db";
  const std::string a = CraftArchive(d, "b=bytearray(open('" + db +
                                            "','rb').read()); b[4096+8:4096+400]=b'\\xff'*392; b=bytes(b)\n"
                                            "add('20250129_143022/data/auth.db', b)\n"
                                            "info([('data/auth.db', b)])\n");
  auto r = Verify(a);
  EXPECT_EQ(1, r.code);
  EXPECT_NE(r.err.find("database \"20250129_143022/data/auth.db\" fails PRAGMA integrity_check"), std::string::npos)
      << r.err;
}

TEST_F(ExportTest, VerifyRefusesEntriesThatEscapeOrDoNotBelong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"add('20250129_143022/../evil', b'x')\n", "\"20250129_143022/../evil\" has an empty"},
      {"add('/etc/evil', b'x')\n", "\"/etc/evil\" is an absolute path"},
      {"add('other/evil', b'x')\n", "is outside the top folder"},
      {"add('20250129_143022/l', type=tarfile.SYMTYPE, link='../../etc/passwd')\n", "points outside the archive"},
      {"add('20250129_143022/l', type=tarfile.SYMTYPE, link='/etc/passwd')\n", "points outside the archive"},
      {"add('20250129_143022/h', type=tarfile.LNKTYPE, link='20250129_143022/backup_info.json')\n", "is a hard link"},
      {"add('20250129_143022/dev', type=tarfile.CHRTYPE)\n", "is a device"},
      {"add('20250129_143022/a', b'1')\nadd('20250129_143022/a', b'2')\n", "\"20250129_143022/a\" appears twice"},
  };
  int n = 0;
  for (const auto& [entries, expect] : cases) {
    const std::string d = dir_.path() + "/case" + std::to_string(n++);
    fs::create_directories(d);
    auto r = Verify(CraftArchive(d, entries + "info([])\n"));
    EXPECT_EQ(1, r.code) << entries;
    EXPECT_NE(r.err.find(expect), std::string::npos) << entries << "\n" << r.err;
  }
}

TEST_F(ExportTest, VerifyStopsADecompressionBomb) {
  const std::string d = dir_.path() + "/bomb";
  fs::create_directories(d);
  const std::string a = CraftArchive(d, "add('20250129_143022/zeros', bytes(64<<20))\ninfo([])\n", "zstd -19 -q");
  ASSERT_LT(fs::file_size(a), 64u << 10) << "the crafted bomb must compress far beyond 1000:1";
  auto r = Verify(a);
  EXPECT_EQ(1, r.code);
  EXPECT_NE(r.err.find("decompression bomb"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace qm
