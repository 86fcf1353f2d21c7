// Pack header/TOC/trailer: golden bytes, round trip, hostile input.
#include "core/pack_format.h"

#include <gtest/gtest.h>

#include "core/coding.h"
#include "tests/support/golden.h"

namespace qm {
namespace {

Status DecodeWith(std::vector<PackEntry> entries, uint64_t blob_region = 150);

// What tests/golden/pack_v1.bin holds (written by the version 1 encoder).
std::vector<PackEntry> SampleEntriesV1() {
  PackEntry a{BlobType::kData, Compression::kZstd, Sha256(AsBytes("a")), 8, 100, 4000};
  PackEntry b{BlobType::kTree, Compression::kNone, Sha256(AsBytes("b")), 108, 50, 50};
  return {a, b};
}

// Version 2: a blob alone in its frame, two pages sharing one frame, a raw
// tree blob.
std::vector<PackEntry> SampleEntries() {
  PackEntry a{BlobType::kData, Compression::kZstd, Sha256(AsBytes("a")), 8, 100, 4000};
  PackEntry p1{BlobType::kData, Compression::kZstd, Sha256(AsBytes("p1")), 108, 30, 4096, 8192, 0};
  PackEntry p2{BlobType::kData, Compression::kZstd, Sha256(AsBytes("p2")), 108, 30, 4096, 8192, 4096};
  PackEntry b{BlobType::kTree, Compression::kNone, Sha256(AsBytes("b")), 138, 20, 20};
  return {a, p1, p2, b};
}

// A whole pack: header, 150 bytes of blob region, footer.
Bytes SamplePack() {
  Bytes pack = EncodePackHeader();
  pack.resize(8 + 150, 0xAB);
  Bytes footer = EncodePackFooter(SampleEntries());
  pack.insert(pack.end(), footer.begin(), footer.end());
  return pack;
}

Result<std::vector<PackEntry>> Decode(const Bytes& pack) {
  if (pack.size() < kPackTrailerSize) return Status::Corruption("short");
  QM_ASSIGN_OR_RETURN(PackTrailer t, DecodePackTrailer(ByteView(pack).last(kPackTrailerSize), pack.size()));
  return DecodePackToc(ByteView(pack).subspan(t.toc_offset, t.toc_size()), t);
}

TEST(PackFormatTest, FooterRoundTripsAndMatchesGolden) {
  Bytes pack = SamplePack();
  ExpectMatchesGolden("pack_v2.bin", pack);
  ASSERT_TRUE(DecodePackHeader(ByteView(pack).first(kPackHeaderSize)).ok());
  auto entries = Decode(pack);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(SampleEntries(), *entries);
}

TEST(PackFormatTest, VersionOnePacksStillDecode) {
  const std::string golden = ReadGolden("pack_v1.bin");
  const Bytes pack(golden.begin(), golden.end());
  ASSERT_TRUE(DecodePackHeader(ByteView(pack).first(kPackHeaderSize)).ok());
  auto entries = Decode(pack);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(SampleEntriesV1(), *entries);
}

TEST(PackFormatTest, SharedFramesThatDisagreeOrOverflowAreCorruption) {
  auto e = SampleEntries();
  e[2].stored_len = 29;  // members disagree on the frame's stored size
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[2].frame_raw_len = 8193;  // ... or on its plaintext size
  e[1].frame_raw_len = 8192;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[2].raw_offset = 4095;  // overlaps the first member
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[2].raw_offset = 4097;  // runs past the frame's end
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[1].frame_raw_len = e[2].frame_raw_len = kMaxSharedFrameSize + 1;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[1].compression = e[2].compression = Compression::kNone;  // a shared frame is zstd
  e[1].stored_len = e[2].stored_len = 30;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[0].raw_offset = 1;  // an offset into a frame of its own
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[2].frame_raw_len = 0;  // the second is not a member: it overlaps the frame
  e[2].raw_offset = 0;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  EXPECT_TRUE(DecodeWith(SampleEntries()).ok());
}

TEST(PackFormatTest, EmptyPackHasAnEmptyToc) {
  Bytes pack = EncodePackHeader();
  Bytes footer = EncodePackFooter({});
  pack.insert(pack.end(), footer.begin(), footer.end());
  auto entries = Decode(pack);
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST(PackFormatTest, BadHeaderOrVersionIsCorruption) {
  Bytes h = EncodePackHeader();
  h[0] = 'X';
  EXPECT_TRUE(DecodePackHeader(h).IsCorruption());
  h = EncodePackHeader();
  h[7] = 9;
  EXPECT_TRUE(DecodePackHeader(h).IsCorruption());
}

TEST(PackFormatTest, EveryTruncationAndEveryFlippedFooterByteIsDetected) {
  Bytes pack = SamplePack();
  for (size_t len = 0; len < pack.size(); len++) {
    Bytes t(pack.begin(), pack.begin() + len);
    EXPECT_FALSE(Decode(t).ok()) << "truncated to " << len;
  }
  size_t footer_start = pack.size() - SampleEntries().size() * PackTocEntrySize(kPackFormatVersion) - kPackTrailerSize;
  for (size_t i = footer_start; i < pack.size(); i++) {
    Bytes t = pack;
    t[i] ^= 0x01;
    EXPECT_FALSE(Decode(t).ok()) << "flipped byte " << i;
  }
}

// Builds a footer whose checksum is valid, so the entry checks themselves run.
Status DecodeWith(std::vector<PackEntry> entries, uint64_t blob_region) {
  Bytes pack = EncodePackHeader();
  pack.resize(8 + blob_region, 0);
  Bytes footer = EncodePackFooter(entries);
  pack.insert(pack.end(), footer.begin(), footer.end());
  return Decode(pack).status();
}

TEST(PackFormatTest, EntriesPointingOutsideOrOverlappingAreCorruption) {
  auto e = SampleEntries();
  e[1].offset = e[2].offset = 100;  // overlaps the first blob
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[3].stored_len = 21;  // runs into the TOC
  e[3].raw_len = 21;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[0].offset = 0;  // inside the header
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[0].raw_len = kMaxBlobSize + 1;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[3].raw_len = 19;  // uncompressed, lengths must agree
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[0].type = static_cast<BlobType>(7);
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  EXPECT_TRUE(DecodeWith(SampleEntries()).ok());
}

TEST(PackFormatTest, AnEntryCountLargerThanThePackIsCorruption) {
  Bytes pack = SamplePack();
  // Rewrite the trailer's entry count to something absurd.
  Bytes count;
  PutFixed32(&count, 0x7fffffff);
  std::copy(count.begin(), count.end(), pack.end() - kPackTrailerSize);
  EXPECT_TRUE(DecodePackTrailer(ByteView(pack).last(kPackTrailerSize), pack.size()).status().IsCorruption());
}

}  // namespace
}  // namespace qm
