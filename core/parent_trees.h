// Parent trees: the trees of a committed snapshot, kept in a local cache file
// (R/cache/, never needed to restore) so that the next backup of the same set
// can compare with its parent without opening the chunk index. Opening and
// reconciling RocksDB was ~30 ms of a 70-95 ms backup that found nothing
// changed; with this file such a backup reads one file and stats packs/.
//
// The record describes a snapshot by its root tree: snapshots with the same
// root tree have the same content, so a backup that changes nothing leaves
// the file as it is. `packs_stamp` stamps the packs on disk right after such
// a snapshot was committed, when the index held every pack on disk and
// every chunk of the snapshot (Repository::PacksStamp). A backup that finds
// the same stamp knows no pack was added or removed since, so the parent's
// chunks are all still there, without asking the index. A different stamp
// proves nothing either way: the backup then asks the index as before.
//
// Format (docs/format.md, "Parent trees"): "QMPT" | version u8 = 1 |
// root_tree 32 | packs_stamp 32 | varint count |
// count x (tree id 32 | varint length | length bytes) |
// XXH3-64 u64le of every byte before it.
// The decoder treats its input as hostile. It does not hash the trees: the
// caller checks SHA-256(tree) == id before trusting one. Decoded trees are
// views into the decoder's input, which must outlive them.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/result.h"

namespace qm {

struct ParentTrees {
  Hash256 root_tree;
  Hash256 packs_stamp;
  std::vector<std::pair<Hash256, ByteView>> trees;  // id, encoded tree (core/tree.h); not owned
};

inline constexpr uint8_t kParentTreesVersion = 1;

Bytes EncodeParentTrees(const ParentTrees& pt);
Result<ParentTrees> DecodeParentTrees(ByteView data);

}  // namespace qm
