// The JSON reader behind `verify`: what backup_info.json needs, and hostile
// input refused with a Status rather than a crash or a wrong value.
#include "core/json_value.h"

#include <gtest/gtest.h>

namespace qm {
namespace {

TEST(JsonValueTest, ReadsObjectsArraysStringsNumbersAndLiterals) {
  auto v =
      ParseJson(R"( {"a":[1,2.5,-3,true,false,null],"s":"x\"\\\/\n\u00e9\ud83d\ude00","n":18446744073709551615} )");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const JsonValue* a = v->Find("a");
  ASSERT_TRUE(a && a->type == JsonValue::Type::kArray && a->array.size() == 6);
  EXPECT_EQ(a->array[0].uint, 1u);
  EXPECT_FALSE(a->array[1].uint.has_value());
  EXPECT_EQ(a->array[1].text, "2.5");
  EXPECT_FALSE(a->array[2].uint.has_value());
  EXPECT_TRUE(a->array[3].boolean);
  EXPECT_EQ(a->array[5].type, JsonValue::Type::kNull);
  EXPECT_EQ(v->Find("s")->text, "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v->Find("n")->uint, UINT64_MAX);
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(JsonValueTest, NumbersTooLargeForUint64KeepOnlyTheirText) {
  auto v = ParseJson("18446744073709551616");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->uint.has_value());
  EXPECT_EQ(v->text, "18446744073709551616");
}

TEST(JsonValueTest, HostileInputIsRefused) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "{\"a\":1,\"a\":2}", "\"\\x\"", "\"\\ud800\"", "\"a\nb\"",
                          "01", "1.", "-", "tru", "{} x", "{\"a\" 1}", "\"\\u12\""}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseJson(std::string(kMaxJsonDepth + 5, '[') + std::string(kMaxJsonDepth + 5, ']')).ok())
      << "nesting is bounded";
  EXPECT_TRUE(ParseJson(std::string(10, '[') + std::string(10, ']')).ok());
}

}  // namespace
}  // namespace qm
