// Byte buffers. ByteView never owns; Bytes owns.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace qm {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsString(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace qm
