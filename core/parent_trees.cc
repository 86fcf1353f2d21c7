#include "core/parent_trees.h"

#include <string>

#include "core/cache_record.h"
#include "core/coding.h"

namespace qm {
namespace {

constexpr char kMagic[4] = {'Q', 'M', 'P', 'T'};

Status Bad(const std::string& why) {
  return Status::Corruption("parent trees: " + why);
}

}  // namespace

Bytes EncodeParentTrees(const ParentTrees& pt) {
  size_t total = 64 + 32 + 32;
  for (const auto& [id, tree] : pt.trees) total += 32 + 10 + tree.size();
  Bytes out = BeginCacheRecord(kMagic, kParentTreesVersion);
  out.reserve(total);
  PutBytes(&out, pt.root_tree.View());
  PutBytes(&out, pt.packs_stamp.View());
  PutVarint64(&out, pt.trees.size());
  for (const auto& [id, tree] : pt.trees) {
    PutBytes(&out, id.View());
    PutLengthPrefixed(&out, tree);
  }
  SealCacheRecord(&out);
  return out;
}

Result<ParentTrees> DecodeParentTrees(ByteView data) {
  QM_ASSIGN_OR_RETURN(ByteView body, OpenCacheRecord(data, kMagic, kParentTreesVersion, "parent trees"));
  ByteReader r(body);
  ParentTrees pt;
  uint64_t count = 0;
  if (!r.ReadHash256(&pt.root_tree) || !r.ReadHash256(&pt.packs_stamp) || !r.ReadVarint64(&count))
    return Bad("truncated header");
  // Each tree takes at least 33 bytes: a count beyond that is a lie.
  if (count > r.remaining() / 33) return Bad("bad count");
  pt.trees.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; i++) {
    Hash256 id;
    ByteView tree;
    if (!r.ReadHash256(&id) || !r.ReadLengthPrefixed(&tree)) return Bad("truncated tree " + std::to_string(i));
    pt.trees.emplace_back(id, tree);
  }
  if (!r.empty()) return Bad("trailing bytes");
  return pt;
}

}  // namespace qm
