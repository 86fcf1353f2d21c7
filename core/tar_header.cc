#include "core/tar_header.h"

#include <cstring>
#include <string_view>

namespace qm {
namespace {

// Writes `value` as `width - 1` octal digits and a NUL; false if it does not fit.
bool PutOctal(uint8_t* field, size_t width, uint64_t value) {
  field[width - 1] = 0;
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<uint8_t>('0' + (value & 7));
    value >>= 3;
  }
  return value == 0;
}

bool IsPlainAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// One pax record: "<len> key=value\n", where <len> counts the whole record.
std::string PaxRecord(std::string_view key, std::string_view value) {
  const size_t body = 1 + key.size() + 1 + value.size() + 1;  // ' ' key '=' value '\n'
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

// ustar splits a long path into prefix (155) '/' name (100).
bool SplitUstarPath(const std::string& path, std::string* prefix, std::string* name) {
  if (path.size() <= 100) {
    prefix->clear();
    *name = path;
    return true;
  }
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100 && path.size() - slash - 1 > 0) {
      *prefix = path.substr(0, slash);
      *name = path.substr(slash + 1);
      return true;
    }
  }
  return false;
}

void FillHeader(uint8_t* h, const std::string& name, const std::string& prefix, char type, uint32_t mode,
                uint64_t mtime, uint64_t size, const std::string& link) {
  std::memset(h, 0, kTarBlockSize);
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  PutOctal(h + 100, 8, mode & 07777);
  PutOctal(h + 108, 8, 0);  // uid
  PutOctal(h + 116, 8, 0);  // gid
  PutOctal(h + 124, 12, size);
  PutOctal(h + 136, 12, mtime);
  h[156] = static_cast<uint8_t>(type);
  std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 100));
  std::memcpy(h + 257, "ustar", 6);  // magic "ustar\0"
  std::memcpy(h + 263, "00", 2);     // version
  std::memcpy(h + 265, "root", 4);   // uname
  std::memcpy(h + 297, "root", 4);   // gname
  std::memcpy(h + 345, prefix.data(), std::min<size_t>(prefix.size(), 155));
  // Checksum: sum of all bytes with the checksum field as spaces.
  std::memset(h + 148, ' ', 8);
  uint32_t sum = 0;
  for (size_t i = 0; i < kTarBlockSize; i++) sum += h[i];
  PutOctal(h + 148, 7, sum);  // six digits, NUL, then the space already there
}

}  // namespace

Result<Bytes> EncodeTarHeader(const TarEntry& e) {
  if (e.path.empty() || e.path.front() == '/')
    return Status::InvalidArgument("tar entry \"" + e.path + "\"", "path must be relative and non-empty");
  for (size_t start = 0; start <= e.path.size();) {
    size_t end = e.path.find('/', start);
    if (end == std::string::npos) end = e.path.size();
    const std::string_view part(e.path.data() + start, end - start);
    const bool trailing = end == e.path.size() && part.empty() && e.type == TarType::kDir;
    if ((part.empty() && !trailing) || part == "..")
      return Status::InvalidArgument("tar entry \"" + e.path + "\"", "path has an empty or \"..\" component");
    start = end + 1;
  }
  std::string path = e.path;
  if (e.type == TarType::kDir && path.back() != '/') path += '/';
  const uint64_t mtime = e.mtime < 0 ? 0 : static_cast<uint64_t>(e.mtime);
  const uint64_t size = e.type == TarType::kFile ? e.size : 0;

  std::string prefix, name;
  std::string pax;
  if (!IsPlainAscii(path) || !SplitUstarPath(path, &prefix, &name)) {
    pax += PaxRecord("path", path);
    // The ustar fields then hold a stand-in that old readers can still use.
    name = path.substr(0, 100);
    prefix.clear();
  }
  if (e.type == TarType::kSymlink && (e.link_target.size() > 100 || !IsPlainAscii(e.link_target)))
    pax += PaxRecord("linkpath", e.link_target);
  if (size > 077777777777ull) pax += PaxRecord("size", std::to_string(size));

  Bytes out;
  if (!pax.empty()) {
    const size_t blocks = 1 + (pax.size() + kTarBlockSize - 1) / kTarBlockSize;
    out.resize(blocks * kTarBlockSize, 0);
    // GNU tar's convention for the extended header's own name.
    FillHeader(out.data(), "PaxHeaders/" + std::to_string(path.size()), "", 'x', 0644, mtime, pax.size(), "");
    std::memcpy(out.data() + kTarBlockSize, pax.data(), pax.size());
  }
  const size_t at = out.size();
  out.resize(at + kTarBlockSize);
  const std::string link = e.type == TarType::kSymlink ? e.link_target.substr(0, 100) : "";
  FillHeader(out.data() + at, name, prefix, static_cast<char>(e.type), e.mode, mtime, size > 077777777777ull ? 0 : size,
             link);
  return out;
}

size_t TarPadding(uint64_t size) {
  return static_cast<size_t>((kTarBlockSize - size % kTarBlockSize) % kTarBlockSize);
}

Bytes TarEndOfArchive() {
  return Bytes(2 * kTarBlockSize, 0);
}

}  // namespace qm
