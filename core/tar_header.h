// Tar entry headers for the export archive (docs/archive-format.md).
//
// POSIX.1-2001 "pax" format: a ustar header per entry, preceded by a pax
// extended header when the path or link target does not fit ustar's fields
// or is not plain ASCII, or the size does not fit 11 octal digits. Output is
// a pure function of the entry: owner and group are 0/"root", there is no
// atime/ctime, and pax headers carry only the keys needed, so the same
// entries always give the same bytes (GNU tar, bsdtar and Python's tarfile
// read it).
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace qm {

enum class TarType : char { kFile = '0', kSymlink = '2', kDir = '5' };

struct TarEntry {
  std::string path;  // relative, '/'-separated, no leading '/', no "..": REQUIRES non-empty
  TarType type = TarType::kFile;
  uint32_t mode = 0644;     // permission bits (07777)
  int64_t mtime = 0;        // seconds since the epoch (negative clamps to 0)
  uint64_t size = 0;        // file: byte length; others: 0
  std::string link_target;  // symlink
};

inline constexpr size_t kTarBlockSize = 512;

// The header block(s) of `entry` (a multiple of 512 bytes). InvalidArgument
// for a path that is empty, absolute, or has a ".." or empty component.
Result<Bytes> EncodeTarHeader(const TarEntry& entry);
// Zero bytes that pad `size` bytes of file data to a whole block.
size_t TarPadding(uint64_t size);
// The end-of-archive marker: two zero blocks.
Bytes TarEndOfArchive();

}  // namespace qm
