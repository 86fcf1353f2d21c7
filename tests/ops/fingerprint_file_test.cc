// The streamed page-fingerprint cache file: what a capture writes as its
// chunks are stored is what the next capture reads as its own arrive, and
// a record that is not exactly the parent's, or that reads differently the
// second time, is never used.
#include "store/ops/fingerprint_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/cache_record.h"
#include "tests/support/repo_fixture.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

class FingerprintFileTest : public WritableRepoTest {
 protected:
  static PageFingerprints Capture(size_t n, int salt) {
    PageFingerprints fp;
    fp.page_size = 4096;
    for (size_t i = 0; i < n; i++) {
      fp.chunks.push_back(Xxh3_64(AsBytes(std::to_string(salt) + "/" + std::to_string(i))));
      fp.refs.push_back({Sha256(AsBytes(std::to_string(salt) + ":" + std::to_string(i))), 8192});
    }
    fp.content_id = ContentIdOf(fp.refs);
    return fp;
  }
  // Writes `fp` as a capture does: chunks 1.. in order, chunk 0 after
  // `first_after` of them. Returns Finish()'s content id.
  Hash256 Write(const PageFingerprints& fp, size_t first_after) {
    auto w = FingerprintFileWriter::Create(repo_.get(), key_, fp.page_size);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    for (size_t k = 1; k < fp.chunks.size(); k++) {
      if (k - 1 == first_after) (*w)->SetFirst({fp.chunks[0], fp.refs[0]});
      EXPECT_TRUE((*w)->Add({fp.chunks[k], fp.refs[k]}).ok());
    }
    if (first_after + 1 >= fp.chunks.size()) (*w)->SetFirst({fp.chunks[0], fp.refs[0]});
    auto id = (*w)->Finish();
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : Hash256{};
  }
  std::string CacheFile() const { return root_ + "/cache/" + key_.Hex(); }
  std::unique_ptr<FingerprintFileReader> Open(const PageFingerprints& fp) {
    return FingerprintFileReader::Open(repo_.get(), key_, fp.content_id, fp.page_size, fp.chunks.size());
  }

  const Hash256 key_ = CacheKey({"page-fingerprints", "/src", "data/quantmesh.db"});
};

TEST_F(FingerprintFileTest, WhatACaptureWritesTheNextReadsBackInCaptureOrder) {
  for (size_t n : {size_t{1}, size_t{2}, size_t{5000}}) {
    SCOPED_TRACE(n);
    const PageFingerprints fp = Capture(n, static_cast<int>(n));
    EXPECT_EQ(fp.content_id, Write(fp, n - 1)) << "the content id of the refs in file order";
    auto whole = DecodePageFingerprints(AsBytes(ReadFileToString(CacheFile())));
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_EQ(fp, *whole);
    auto r = Open(fp);
    ASSERT_NE(nullptr, r);
    EXPECT_EQ((PageFingerprintEntry{fp.chunks[0], fp.refs[0]}), r->Get(0));
    for (size_t k = 1; k < n; k++) ASSERT_EQ((PageFingerprintEntry{fp.chunks[k], fp.refs[k]}), r->Get(k)) << k;
    EXPECT_EQ(std::nullopt, r->Get(n)) << "past the end";
    EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp")) << "the temporary was renamed into place";
  }
  // Chunk 0 may be stored at any point of the capture; the record is the same.
  const PageFingerprints fp = Capture(300, 1);
  Write(fp, 0);
  const std::string early = ReadFileToString(CacheFile());
  Write(fp, 299);
  EXPECT_EQ(early, ReadFileToString(CacheFile()));
}

TEST_F(FingerprintFileTest, ARecordOfAnotherCaptureOrDamagedIsNotOpened) {
  const PageFingerprints fp = Capture(3000, 2);
  Write(fp, 2999);
  ASSERT_NE(nullptr, Open(fp));
  PageFingerprints other = fp;
  other.content_id = Sha256(AsBytes("another capture"));
  EXPECT_EQ(nullptr, Open(other)) << "another content id";
  other = fp;
  other.page_size = 8192;
  EXPECT_EQ(nullptr, Open(other)) << "another page size";
  other = fp;
  other.chunks.pop_back();
  EXPECT_EQ(nullptr, Open(other)) << "another chunk count";

  const std::string good = ReadFileToString(CacheFile());
  // Refs that are not the capture's list, under a valid checksum and the
  // capture's own content id: only hashing the refs tells.
  PageFingerprints forged = fp;
  forged.refs[1700].id = Sha256(AsBytes("not this chunk"));
  const Bytes enc = EncodePageFingerprints(forged);
  WriteStringToFile(CacheFile(), std::string(enc.begin(), enc.end()));
  EXPECT_EQ(nullptr, Open(fp)) << "refs that do not hash to the content id";
  for (size_t len : {size_t{0}, size_t{20}, good.size() / 2, good.size() - 1}) {
    WriteStringToFile(CacheFile(), good.substr(0, len));
    EXPECT_EQ(nullptr, Open(fp)) << "torn at " << len;
  }
  std::string flipped = good;
  flipped[good.size() / 3] ^= 0x20;
  WriteStringToFile(CacheFile(), flipped);
  EXPECT_EQ(nullptr, Open(fp)) << "a flipped byte";
  std::filesystem::remove(CacheFile());
  EXPECT_EQ(nullptr, Open(fp)) << "absent";
}

TEST_F(FingerprintFileTest, APieceThatReadsDifferentlyTheSecondTimeIsNeverHandedOut) {
  const PageFingerprints fp = Capture(5000, 3);
  Write(fp, 4999);
  auto r = Open(fp);  // the first pass verified the file as it was
  ASSERT_NE(nullptr, r);
  {
    // Changed in place (same inode) after that pass: chunk 2000's entry,
    // in the second piece of ~1489 entries.
    std::fstream f(CacheFile(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kPageFingerprintsHeaderSize + 1999 * kPageFingerprintEntrySize + 10));
    f.put('\x5a');
  }
  size_t handed = 0;
  for (size_t k = 1; k < fp.chunks.size(); k++) {
    auto e = r->Get(k);
    if (!e) break;
    ASSERT_EQ((PageFingerprintEntry{fp.chunks[k], fp.refs[k]}), *e) << k;
    handed++;
  }
  EXPECT_EQ(1489u, handed) << "the first piece, then nothing";
  EXPECT_EQ(std::nullopt, r->Get(handed + 2));
}

TEST_F(FingerprintFileTest, EntriesAreHandedOutOnlyInOrder) {
  const PageFingerprints fp = Capture(100, 4);
  Write(fp, 99);
  auto r = Open(fp);
  ASSERT_NE(nullptr, r);
  EXPECT_TRUE(r->Get(1));
  EXPECT_EQ(std::nullopt, r->Get(3)) << "a skipped chunk";
  EXPECT_EQ(std::nullopt, r->Get(2)) << "the reading ended";
  EXPECT_TRUE(r->Get(0)) << "chunk 0 is held from the first pass";
}

TEST_F(FingerprintFileTest, AnUnfinishedWriterLeavesTheOldRecordAndNoTemporary) {
  const PageFingerprints fp = Capture(200, 5);
  Write(fp, 199);
  const std::string before = ReadFileToString(CacheFile());
  {
    auto w = FingerprintFileWriter::Create(repo_.get(), key_, 4096);
    ASSERT_TRUE(w.ok());
    for (size_t k = 1; k < 150; k++) ASSERT_TRUE((*w)->Add({1, fp.refs[k]}).ok());
  }  // the capture failed before Finish
  EXPECT_EQ(before, ReadFileToString(CacheFile()));
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp"));
}

}  // namespace
}  // namespace qm
