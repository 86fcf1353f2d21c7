// Pack header/TOC/trailer: golden bytes, round trip, hostile input.
#include "core/pack_format.h"

#include <gtest/gtest.h>

#include "core/coding.h"
#include "tests/support/golden.h"

namespace qm {
namespace {

std::vector<PackEntry> SampleEntries() {
  PackEntry a{BlobType::kData, Compression::kZstd, Sha256(AsBytes("a")), 8, 100, 4000};
  PackEntry b{BlobType::kTree, Compression::kNone, Sha256(AsBytes("b")), 108, 50, 50};
  return {a, b};
}

// A whole pack: header, 158 bytes of blob region, footer.
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
  return DecodePackToc(ByteView(pack).subspan(t.toc_offset, t.entry_count * kPackTocEntrySize), t);
}

TEST(PackFormatTest, FooterRoundTripsAndMatchesGolden) {
  Bytes pack = SamplePack();
  ExpectMatchesGolden("pack_v1.bin", pack);
  ASSERT_TRUE(DecodePackHeader(ByteView(pack).first(kPackHeaderSize)).ok());
  auto entries = Decode(pack);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(SampleEntries(), *entries);
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
  size_t footer_start = pack.size() - 2 * kPackTocEntrySize - kPackTrailerSize;
  for (size_t i = footer_start; i < pack.size(); i++) {
    Bytes t = pack;
    t[i] ^= 0x01;
    EXPECT_FALSE(Decode(t).ok()) << "flipped byte " << i;
  }
}

// Builds a footer whose checksum is valid, so the entry checks themselves run.
Status DecodeWith(std::vector<PackEntry> entries, uint64_t blob_region = 150) {
  Bytes pack = EncodePackHeader();
  pack.resize(8 + blob_region, 0);
  Bytes footer = EncodePackFooter(entries);
  pack.insert(pack.end(), footer.begin(), footer.end());
  return Decode(pack).status();
}

TEST(PackFormatTest, EntriesPointingOutsideOrOverlappingAreCorruption) {
  auto e = SampleEntries();
  e[1].offset = 100;  // overlaps the first blob
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[1].stored_len = 51;  // runs into the TOC
  e[1].raw_len = 51;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[0].offset = 0;  // inside the header
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[0].raw_len = kMaxBlobSize + 1;
  EXPECT_TRUE(DecodeWith(e).IsCorruption());
  e = SampleEntries();
  e[1].raw_len = 49;  // uncompressed, lengths must agree
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
