// WalFrameScan: which frame holds each page of a WAL state, accepted only
// when every frame checks against the WAL-index header. The WALs here are
// built by hand (checksums computed as walformat.html gives them); the ops
// tests (sqlite_source_test.cc) read WALs written by SQLite itself.
#include "core/sqlite_wal.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace qm {
namespace {

void PutBig32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

struct FrameSpec {
  uint32_t page;
  uint32_t commit_size;  // 0: not a commit frame
  uint8_t fill;
};

// A -wal file and the WAL-index header describing its last frame.
struct BuiltWal {
  Bytes wal;
  Bytes index;  // 48 bytes, host order
  uint32_t page_size;
  Bytes Frame(uint32_t n) const {
    const uint64_t at = WalFrameOffset(n, page_size);
    return Bytes(wal.begin() + at, wal.begin() + at + kWalFrameHeaderSize + page_size);
  }
};

BuiltWal BuildWal(uint32_t page_size, bool big, const std::vector<FrameSpec>& frames) {
  BuiltWal w;
  w.page_size = page_size;
  uint32_t s1 = 0, s2 = 0;
  auto sum = [&](const uint8_t* d, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
      uint32_t a, b;
      std::memcpy(&a, d + i, 4);
      std::memcpy(&b, d + i + 4, 4);
      if (big) {
        a = __builtin_bswap32(a);
        b = __builtin_bswap32(b);
      }
      s1 += a + s2;
      s2 += b + s1;
    }
  };
  w.wal.assign(kWalHeaderSize, 0);
  uint8_t* h = w.wal.data();
  PutBig32(h, big ? 0x377f0683 : 0x377f0682);
  PutBig32(h + 4, 3007000);
  PutBig32(h + 8, page_size);
  PutBig32(h + 12, 7);           // checkpoint sequence
  PutBig32(h + 16, 0x11223344);  // salts
  PutBig32(h + 20, 0x55667788);
  sum(h, 24);
  PutBig32(h + 24, s1);
  PutBig32(h + 28, s2);
  uint32_t last_commit = 0;
  for (const FrameSpec& f : frames) {
    Bytes frame(kWalFrameHeaderSize + page_size, f.fill);
    PutBig32(frame.data(), f.page);
    PutBig32(frame.data() + 4, f.commit_size);
    std::memcpy(frame.data() + 8, h + 16, 8);
    sum(frame.data(), 8);
    sum(frame.data() + kWalFrameHeaderSize, page_size);
    PutBig32(frame.data() + 16, s1);
    PutBig32(frame.data() + 20, s2);
    w.wal.insert(w.wal.end(), frame.begin(), frame.end());
    h = w.wal.data();
    if (f.commit_size) last_commit = f.commit_size;
  }
  w.index.assign(kWalIndexHeaderSize, 0);
  uint8_t* x = w.index.data();
  const uint32_t version = 3007000, change = 42, max_frame = static_cast<uint32_t>(frames.size());
  std::memcpy(x, &version, 4);
  std::memcpy(x + 8, &change, 4);
  x[12] = 1;
  x[13] = big ? 1 : 0;
  const uint16_t sz = static_cast<uint16_t>((page_size & 0xfe00) | (page_size >> 16));
  std::memcpy(x + 14, &sz, 2);
  std::memcpy(x + 16, &max_frame, 4);
  std::memcpy(x + 20, &last_commit, 4);
  std::memcpy(x + 24, &s1, 4);
  std::memcpy(x + 28, &s2, 4);
  std::memcpy(x + 32, w.wal.data() + 16, 8);
  return w;
}

Result<std::vector<WalPageFrame>> Scan(const BuiltWal& w, const WalIndexHeader& index) {
  QM_ASSIGN_OR_RETURN(WalFrameScan scan, WalFrameScan::Start(index, ByteView(w.wal.data(), kWalHeaderSize)));
  for (uint32_t f = 1; f <= index.max_frame; f++) {
    if (WalFrameOffset(f, w.page_size) + kWalFrameHeaderSize + w.page_size > w.wal.size()) break;
    QM_RETURN_IF_ERROR(scan.Add(w.Frame(f)));
  }
  return scan.Finish();
}

Result<std::vector<WalPageFrame>> Scan(const BuiltWal& w) {
  QM_ASSIGN_OR_RETURN(WalIndexHeader index, DecodeWalIndexHeader(w.index));
  return Scan(w, index);
}

TEST(SqliteWalTest, EachPageComesFromItsLastFrameInBothChecksumOrders) {
  for (bool big : {false, true}) {
    SCOPED_TRACE(big ? "big-endian checksums" : "little-endian checksums");
    // Two commits: pages 2, 3 (commit of 3 pages), then page 2 again and a
    // new page 4 (commit of 4 pages).
    const BuiltWal w = BuildWal(1024, big, {{2, 0, 'a'}, {3, 3, 'b'}, {2, 0, 'c'}, {4, 4, 'd'}});
    auto index = DecodeWalIndexHeader(w.index);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    EXPECT_EQ(1024u, index->page_size);
    EXPECT_EQ(4u, index->max_frame);
    EXPECT_EQ(4u, index->page_count);
    auto map = Scan(w);
    ASSERT_TRUE(map.ok()) << map.status().ToString();
    ASSERT_EQ(3u, map->size());
    EXPECT_EQ(2u, (*map)[0].page);
    EXPECT_EQ(3u, (*map)[0].frame) << "page 2's later frame wins";
    EXPECT_EQ(3u, (*map)[1].page);
    EXPECT_EQ(2u, (*map)[1].frame);
    EXPECT_EQ(4u, (*map)[2].page);
    EXPECT_EQ(4u, (*map)[2].frame);
  }
}

// A reader whose state ends at the first commit ignores the frames after
// it, whatever they hold.
// A frame read again is accepted only while it is the frame the scan
// verified: rewritten by a restart (new salts), or half rewritten, it is not.
TEST(SqliteWalTest, AFrameReadAgainMatchesOnlyWhileUnchanged) {
  const BuiltWal w = BuildWal(1024, true, {{2, 0, 'a'}, {3, 3, 'b'}});
  auto index = DecodeWalIndexHeader(w.index);
  ASSERT_TRUE(index.ok());
  auto map = Scan(w);
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(2u, map->size());
  for (const WalPageFrame& f : *map) EXPECT_TRUE(WalFrameMatches(*index, f, w.Frame(f.frame))) << f.page;
  const WalPageFrame& page3 = (*map)[1];
  Bytes frame = w.Frame(page3.frame);
  frame[kWalFrameHeaderSize + 7] ^= 1;  // data changed under the same header
  EXPECT_FALSE(WalFrameMatches(*index, page3, frame));
  frame = w.Frame(page3.frame);
  frame[11] ^= 1;  // another generation's salts
  EXPECT_FALSE(WalFrameMatches(*index, page3, frame));
  EXPECT_FALSE(WalFrameMatches(*index, page3, w.Frame(1))) << "another page's frame";
  EXPECT_FALSE(WalFrameMatches(*index, page3, ByteView(w.Frame(page3.frame).data(), 100)));
}

TEST(SqliteWalTest, AnEarlierStateReadsOnlyItsOwnFrames) {
  const BuiltWal w = BuildWal(512, false, {{2, 2, 'a'}, {2, 0, 'b'}, {5, 5, 'c'}});
  // The index header as it was after frame 1: rebuild from a WAL of frame 1.
  const BuiltWal first = BuildWal(512, false, {{2, 2, 'a'}});
  auto index = DecodeWalIndexHeader(first.index);
  ASSERT_TRUE(index.ok());
  auto map = Scan(w, *index);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  ASSERT_EQ(1u, map->size());
  EXPECT_EQ(1u, (*map)[0].frame);
}

TEST(SqliteWalTest, FramesOfPagesPastTheStatesEndAreDropped) {
  // A commit that shrinks the database to 2 pages after page 6 was written.
  const BuiltWal w = BuildWal(512, false, {{6, 6, 'a'}, {2, 2, 'b'}});
  auto map = Scan(w);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  ASSERT_EQ(1u, map->size());
  EXPECT_EQ(2u, (*map)[0].page);
}

TEST(SqliteWalTest, APageSizeOf65536IsDecodedFromItsOneBitEncoding) {
  const BuiltWal w = BuildWal(65536, false, {{2, 2, 'x'}});
  auto index = DecodeWalIndexHeader(w.index);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(65536u, index->page_size);
  EXPECT_TRUE(Scan(w).ok());
}

// SQLite's recovery of an empty WAL leaves the page size 0: a state with no
// frames, read from the database file alone.
TEST(SqliteWalTest, AnEmptyWalsIndexHeaderHasNoPageSizeAndNoFrames) {
  const BuiltWal w = BuildWal(4096, false, {});
  Bytes h = w.index;
  h[14] = h[15] = 0;
  auto index = DecodeWalIndexHeader(h);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(0u, index->page_size);
  EXPECT_EQ(0u, index->max_frame);
}

TEST(SqliteWalTest, AnIndexHeaderThatIsNotInitialisedOrOfAnotherVersionIsRefused) {
  const BuiltWal w = BuildWal(4096, false, {{2, 2, 'x'}});
  Bytes h = w.index;
  h[12] = 0;
  EXPECT_TRUE(DecodeWalIndexHeader(h).status().IsCorruption());
  h = w.index;
  h[0] ^= 1;
  EXPECT_TRUE(DecodeWalIndexHeader(h).status().IsCorruption());
  h = w.index;
  h[15] = 0x30;  // 0x30xx: not a power of two
  EXPECT_TRUE(DecodeWalIndexHeader(h).status().IsCorruption());
  h = w.index;
  h[14] = h[15] = 0;  // no page size, but frames
  EXPECT_TRUE(DecodeWalIndexHeader(h).status().IsCorruption());
  EXPECT_TRUE(DecodeWalIndexHeader(ByteView(w.index.data(), 40)).status().IsCorruption());
}

// Everything a restarted, rewritten or damaged WAL could show is refused,
// so the capture falls back to SQLite's own reading instead of using it.
TEST(SqliteWalTest, AWalThatDoesNotMatchTheIndexHeaderIsRefused) {
  const BuiltWal good = BuildWal(1024, false, {{2, 0, 'a'}, {3, 3, 'b'}});
  ASSERT_TRUE(Scan(good).ok());
  auto damaged = [&](size_t at) {
    BuiltWal w = good;
    w.wal[at] ^= 0x01;
    return Scan(w).status();
  };
  const size_t frame2 = WalFrameOffset(2, 1024);
  struct Case {
    const char* what;
    size_t at;
  } cases[] = {
      {"WAL magic", 3},
      {"WAL page size", 10},
      {"WAL header salt (a restart)", 19},
      {"WAL header checksum", 27},
      {"frame page number", frame2 + 3},
      {"frame commit size", frame2 + 7},
      {"frame salt", frame2 + 11},
      {"frame checksum", frame2 + 19},
      {"frame data", frame2 + kWalFrameHeaderSize + 100},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(damaged(c.at).IsCorruption());
  }
  // The index names a frame the file does not have.
  {
    BuiltWal w = good;
    w.wal.resize(frame2);
    EXPECT_TRUE(Scan(w).status().IsCorruption());
  }
  // The index's last frame is not a commit.
  {
    const BuiltWal w = BuildWal(1024, false, {{2, 2, 'a'}, {3, 0, 'b'}});
    EXPECT_TRUE(Scan(w).status().IsCorruption());
  }
  // The index's checksum is not the last frame's (another WAL's index).
  {
    BuiltWal w = good;
    w.index[24] ^= 1;
    EXPECT_TRUE(Scan(w).status().IsCorruption());
  }
  // A frame given after the state's last one, or of the wrong length.
  {
    auto index = DecodeWalIndexHeader(good.index);
    ASSERT_TRUE(index.ok());
    auto scan = WalFrameScan::Start(*index, ByteView(good.wal.data(), kWalHeaderSize));
    ASSERT_TRUE(scan.ok());
    EXPECT_TRUE(scan->Add(ByteView(good.Frame(1).data(), 100)).IsCorruption());
    EXPECT_TRUE(scan->Finish().status().IsCorruption()) << "a failed frame fails the scan";
  }
}

}  // namespace
}  // namespace qm
