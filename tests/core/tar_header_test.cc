// Tar headers of the export archive: byte-exact output (golden), valid
// checksums, pax headers only where ustar cannot hold a field, and refusal
// of paths that would escape the archive's top folder.
#include "core/tar_header.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/golden.h"

namespace qm {
namespace {

uint64_t ParseOctal(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + (p[i] - '0');
  return v;
}

void ExpectValidChecksum(const uint8_t* h) {
  uint32_t sum = 0;
  for (size_t i = 0; i < kTarBlockSize; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  EXPECT_EQ(sum, ParseOctal(h + 148, 8));
}

std::vector<TarEntry> SampleEntries() {
  std::vector<TarEntry> v(5);
  v[0].path = "20250129_143022";
  v[0].type = TarType::kDir;
  v[0].mode = 0700;
  v[0].mtime = 1738161022;
  v[1].path = "20250129_143022/config.yaml";
  v[1].mode = 0600;
  v[1].mtime = 1738150000;
  v[1].size = 1234;
  v[2].path = "20250129_143022/logs/latest";
  v[2].type = TarType::kSymlink;
  v[2].mode = 0777;
  v[2].link_target = "quantmesh-2025-01-29.log";
  v[3].path = "20250129_143022/" + std::string(120, 'd') + "/" + std::string(90, 'f');  // ustar prefix/name split
  v[3].size = 1;
  v[4].path = "20250129_143022/日志/" + std::string(200, 'x');  // needs a pax path
  v[4].size = 7;
  return v;
}

TEST(TarHeaderTest, SampleEntriesMatchTheGoldenFile) {
  Bytes all;
  for (const TarEntry& e : SampleEntries()) {
    auto h = EncodeTarHeader(e);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    all.insert(all.end(), h->begin(), h->end());
  }
  Bytes end = TarEndOfArchive();
  all.insert(all.end(), end.begin(), end.end());
  ExpectMatchesGolden("export_tar_headers_v1.bin", all);
}

TEST(TarHeaderTest, UstarFieldsAndChecksumAreWhatReadersExpect) {
  TarEntry e = SampleEntries()[1];
  auto h = EncodeTarHeader(e);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), kTarBlockSize);
  const uint8_t* p = h->data();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p)), e.path);
  EXPECT_EQ(ParseOctal(p + 100, 8), 0600u);
  EXPECT_EQ(ParseOctal(p + 108, 8), 0u);  // uid
  EXPECT_EQ(ParseOctal(p + 124, 12), 1234u);
  EXPECT_EQ(ParseOctal(p + 136, 12), 1738150000u);
  EXPECT_EQ(p[156], '0');
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p + 257), 6), std::string("ustar\0", 6));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p + 265)), "root");
  ExpectValidChecksum(p);
}

TEST(TarHeaderTest, DirectoriesGetATrailingSlashAndNoSize) {
  TarEntry e;
  e.path = "top/data";
  e.type = TarType::kDir;
  e.size = 99;  // ignored for directories
  auto h = EncodeTarHeader(e);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(h->data())), "top/data/");
  EXPECT_EQ(ParseOctal(h->data() + 124, 12), 0u);
}

TEST(TarHeaderTest, LongPathsSplitIntoPrefixOrGetAPaxRecord) {
  auto v = SampleEntries();
  auto split = EncodeTarHeader(v[3]);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->size(), kTarBlockSize) << "fits ustar's prefix + name";
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(split->data() + 345)),
            "20250129_143022/" + std::string(120, 'd'));

  auto pax = EncodeTarHeader(v[4]);
  ASSERT_TRUE(pax.ok());
  ASSERT_EQ(pax->size(), 3 * kTarBlockSize);  // x header, its records, the entry
  EXPECT_EQ(pax->at(156), 'x');
  const std::string records(reinterpret_cast<const char*>(pax->data() + kTarBlockSize),
                            ParseOctal(pax->data() + 124, 12));
  const std::string expect_suffix = " path=" + v[4].path + "\n";
  ASSERT_GE(records.size(), expect_suffix.size());
  EXPECT_EQ(records.substr(records.size() - expect_suffix.size()), expect_suffix);
  EXPECT_EQ(std::stoul(records), records.size()) << "a pax record's length counts itself";
  ExpectValidChecksum(pax->data());
  ExpectValidChecksum(pax->data() + 2 * kTarBlockSize);
}

TEST(TarHeaderTest, SizesBeyondElevenOctalDigitsGoToPax) {
  TarEntry e;
  e.path = "top/huge.db";
  e.size = 10ull << 30;  // 10 GiB > 8 GiB - 1
  auto h = EncodeTarHeader(e);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3 * kTarBlockSize);
  const std::string records(reinterpret_cast<const char*>(h->data() + kTarBlockSize), 30);
  EXPECT_NE(records.find("size=10737418240\n"), std::string::npos) << records;
}

TEST(TarHeaderTest, PathsThatCouldEscapeTheTopFolderAreRefused) {
  for (const char* bad : {"", "/etc/passwd", "top/../../etc", "top//x", "..", "top/x/.."}) {
    TarEntry e;
    e.path = bad;
    EXPECT_FALSE(EncodeTarHeader(e).ok()) << bad;
  }
}

TEST(TarHeaderTest, PaddingFillsTheLastBlock) {
  EXPECT_EQ(TarPadding(0), 0u);
  EXPECT_EQ(TarPadding(1), 511u);
  EXPECT_EQ(TarPadding(512), 0u);
  EXPECT_EQ(TarPadding(1000), 24u);
  EXPECT_EQ(TarEndOfArchive(), Bytes(1024, 0));
}

}  // namespace
}  // namespace qm
