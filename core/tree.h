// Snapshot manifests are trees: one Tree blob per directory, stored
// content-addressed (id = SHA-256 of the encoding) as BlobType::kTree in
// packs, so an unchanged directory is shared with the parent snapshot.
// Format in docs/format.md, "Tree blobs".
//
// Encoding is deterministic: REQUIRES nodes sorted by name (bytewise), names
// unique, non-empty, without '/' or NUL, and not "." or "..". DecodeTree
// enforces the same and treats its input as hostile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

enum class NodeType : uint8_t { kFile = 1, kDir = 2, kSymlink = 3 };

struct ChunkRef {
  Hash256 id;
  uint32_t raw_len = 0;
  bool operator==(const ChunkRef&) const = default;
};

// One extension record (tag, bytes). Unknown tags are kept on decode and
// re-encoded unchanged, so later versions can add metadata (for example a
// database's page size and integrity result) without a format break.
struct NodeExtension {
  uint32_t tag = 0;
  Bytes value;
  bool operator==(const NodeExtension&) const = default;
};

struct Node {
  std::string name;
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;  // permission bits (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t dev = 0;
  uint64_t size = 0;             // file: byte length; dir/symlink: 0
  Hash256 content_id;            // file: ContentIdOf(chunks)
  std::vector<ChunkRef> chunks;  // file: in order (in memory always the whole list)
  // file: when not empty, the chunk list is stored in these chunk-list
  // blocks (core/chunk_list.h) and EncodeTree writes them instead of
  // `chunks`; DecodeTree then leaves `chunks` empty for the caller to load.
  std::vector<Hash256> list_blocks;
  uint64_t list_chunk_count = 0;  // file with list_blocks: how many chunks they hold
  // Layout 2: list_blocks are chunk-list index blocks (core/chunk_list.h),
  // each naming up to 1024 blocks of refs; layout 1 (false): they are the
  // blocks of refs themselves. Only meaningful with list_blocks.
  bool list_indexed = false;
  Hash256 subtree;                        // dir: id of its Tree blob
  std::string link_target;                // symlink
  std::vector<NodeExtension> extensions;  // sorted by tag, tags unique

  bool operator==(const Node&) const = default;
};

struct Tree {
  std::vector<Node> nodes;
  bool operator==(const Tree&) const = default;
};

// v2 adds the chunk-list layout byte; v1 trees (inline lists) still decode.
// Layout 2 (index blocks) came later within v2: a reader from before it
// refuses such a node by its layout byte instead of misreading it.
inline constexpr uint8_t kTreeFormatVersion = 2;

// Magic "QMTR", version byte, then the nodes (docs/format.md).
Bytes EncodeTree(const Tree& tree);
Result<Tree> DecodeTree(ByteView data);

// How many chunks a file has, whether its list is inline or in blocks
// (a shallow node's `chunks` is empty).
inline uint64_t ChunkCountOf(const Node& n) {
  return n.list_blocks.empty() ? n.chunks.size() : n.list_chunk_count;
}

// Identity of a file's content: SHA-256 over, for each chunk, its 32-byte
// id and its raw_len as u32le. Equal content cut the same way gives the same
// id, without a second pass over the data.
Hash256 ContentIdOf(const std::vector<ChunkRef>& chunks);

// ContentIdOf fed one ref at a time, for lists that are never held whole
// (a 1 GiB database's is ~9 MB). Not thread-safe.
class ContentIdHasher {
 public:
  ContentIdHasher() { buf_.reserve(kFlushAt + 36); }
  void Add(const ChunkRef& ref);
  // The id of the refs added so far; the hasher is then empty again.
  Hash256 Finish();

 private:
  // Fed in 64 KiB pieces: one EVP update per 36-byte ref cost more than the
  // hashing itself for a database's quarter of a million chunks.
  static constexpr size_t kFlushAt = (64u << 10) - 36;
  Sha256Hasher sha_;
  Bytes buf_;
};

}  // namespace qm
