// SHA-256 against published vectors, incremental == one-shot, hex parsing.
#include "core/hash.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace qm {
namespace {

TEST(HashTest, Sha256MatchesFips180Vectors) {
  EXPECT_EQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256(AsBytes("")).Hex());
  EXPECT_EQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256(AsBytes("abc")).Hex());
  EXPECT_EQ("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).Hex());
}

TEST(HashTest, IncrementalHashingEqualsOneShotAndResetsAfterFinish) {
  std::string data = RandomBytes(1 << 20, 3);
  Sha256Hasher h;
  for (size_t off = 0; off < data.size(); off += 7777) h.Update(AsBytes(std::string_view(data).substr(off, 7777)));
  EXPECT_EQ(Sha256(AsBytes(data)), h.Finish());
  h.Update(AsBytes("abc"));
  EXPECT_EQ(Sha256(AsBytes("abc")), h.Finish());
}

TEST(HashTest, HexRoundTripsAndRejectsMalformedInput) {
  Hash256 h = Sha256(AsBytes("x"));
  EXPECT_EQ(h, Hash256::FromHex(h.Hex()));
  std::string upper = h.Hex();
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(h, Hash256::FromHex(upper));
  EXPECT_FALSE(Hash256::FromHex(h.Hex().substr(1)));
  EXPECT_FALSE(Hash256::FromHex("g" + h.Hex().substr(1)));
  EXPECT_FALSE(Hash256::FromBytes(AsBytes("short")));
  EXPECT_EQ(8u, h.ShortHex().size());
  EXPECT_TRUE(Hash256{}.IsZero());
  EXPECT_FALSE(h.IsZero());
}

TEST(HashTest, Xxh3MatchesTheReferenceValueForTheEmptyInput) {
  // XXH3_64bits("") with seed 0, from the xxHash test suite.
  EXPECT_EQ(0x2D06800538D394C2ull, Xxh3_64(AsBytes("")));
  EXPECT_NE(Xxh3_64(AsBytes("a")), Xxh3_64(AsBytes("b")));
}

}  // namespace
}  // namespace qm
