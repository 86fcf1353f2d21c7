// A small JSON reader for qm-snap's own documents (backup_info.json in an
// export archive). Input is hostile: size and nesting are bounded, every
// error is a Status, and numbers are kept as text plus an exact uint64 when
// they are non-negative integers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace qm {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;                         // string value, or a number's digits
  std::optional<uint64_t> uint;             // number: when a non-negative integer that fits
  std::vector<JsonValue> array;             // kArray
  std::map<std::string, JsonValue> object;  // kObject (a duplicate key is an error)

  // Member `key` of an object, or nullptr.
  const JsonValue* Find(std::string_view key) const;
};

inline constexpr size_t kMaxJsonDepth = 64;

// Parses one JSON document (RFC 8259; surrounding whitespace allowed).
Result<JsonValue> ParseJson(std::string_view text);

}  // namespace qm
