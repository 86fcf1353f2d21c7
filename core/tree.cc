#include "core/tree.h"

#include <cstring>
#include <string>

#include "core/chunk_list.h"
#include "core/coding.h"
#include "core/pack_format.h"

namespace qm {

namespace {

constexpr char kTreeMagic[4] = {'Q', 'M', 'T', 'R'};
// Bounds for hostile input: a name is a path component (NAME_MAX), a link
// target a path (PATH_MAX), an extension value a small record.
constexpr size_t kMaxName = 255;
constexpr size_t kMaxLinkTarget = 4096;
constexpr size_t kMaxExtension = 1 << 20;

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > kMaxName || n == "." || n == "..") return false;
  for (char c : n)
    if (c == '/' || c == '\0') return false;
  return true;
}

Status Bad(const std::string& what) {
  return Status::Corruption("tree blob: " + what);
}

}  // namespace

void ContentIdHasher::Add(const ChunkRef& ref) {
  PutBytes(&buf_, ref.id.View());
  PutFixed32(&buf_, ref.raw_len);
  if (buf_.size() >= kFlushAt) {
    sha_.Update(buf_);
    buf_.clear();
  }
}

Hash256 ContentIdHasher::Finish() {
  sha_.Update(buf_);
  buf_.clear();
  return sha_.Finish();
}

Hash256 ContentIdOf(const std::vector<ChunkRef>& chunks) {
  ContentIdHasher h;
  for (const ChunkRef& c : chunks) h.Add(c);
  return h.Finish();
}

Bytes EncodeTree(const Tree& tree) {
  // Sized up front: a 1 GiB database's node in layout 1 holds ~22k block
  // ids (700 KB), and growing by doubling touched ~2x that in fresh pages.
  size_t estimate = 16;
  for (const Node& n : tree.nodes) {
    // A list held in blocks is written as their ids, not as its chunks.
    estimate += 128 + n.name.size() + n.link_target.size() + 32 * n.list_blocks.size() +
                (n.list_blocks.empty() ? 40 * n.chunks.size() : 0);
    for (const NodeExtension& e : n.extensions) estimate += 16 + e.value.size();
  }
  Bytes out;
  out.reserve(estimate);
  out.assign(kTreeMagic, kTreeMagic + 4);
  out.push_back(kTreeFormatVersion);
  PutVarint64(&out, tree.nodes.size());
  for (const Node& n : tree.nodes) {
    PutLengthPrefixed(&out, std::string_view(n.name));
    out.push_back(static_cast<uint8_t>(n.type));
    PutVarint64(&out, n.mode);
    PutVarint64(&out, n.uid);
    PutVarint64(&out, n.gid);
    PutVarsint64(&out, n.mtime_ns);
    PutVarsint64(&out, n.ctime_ns);
    PutVarint64(&out, n.inode);
    PutVarint64(&out, n.dev);
    PutVarint64(&out, n.size);
    switch (n.type) {
      case NodeType::kFile:
        PutBytes(&out, n.content_id.View());
        if (!n.list_blocks.empty()) {
          out.push_back(n.list_indexed ? 2 : 1);  // layout: index blocks, or blocks of refs
          PutVarint64(&out, n.list_chunk_count);
          PutVarint64(&out, n.list_blocks.size());
          for (const Hash256& b : n.list_blocks) PutBytes(&out, b.View());
          break;
        }
        out.push_back(0);  // layout: inline
        PutVarint64(&out, n.chunks.size());
        for (const ChunkRef& c : n.chunks) {
          PutBytes(&out, c.id.View());
          PutVarint64(&out, c.raw_len);
        }
        break;
      case NodeType::kDir: PutBytes(&out, n.subtree.View()); break;
      case NodeType::kSymlink: PutLengthPrefixed(&out, std::string_view(n.link_target)); break;
    }
    PutVarint64(&out, n.extensions.size());
    for (const NodeExtension& e : n.extensions) {
      PutVarint64(&out, e.tag);
      PutLengthPrefixed(&out, ByteView(e.value.data(), e.value.size()));
    }
  }
  return out;
}

Result<Tree> DecodeTree(ByteView data) {
  if (data.size() < 5 || std::memcmp(data.data(), kTreeMagic, 4) != 0) return Bad("bad magic");
  const uint8_t version = data[4];
  if (version != 1 && version != kTreeFormatVersion) return Bad("unsupported version " + std::to_string(version));
  ByteReader r(data.subspan(5));
  uint64_t count;
  // Every node takes at least 13 bytes, so a count beyond that is a lie.
  if (!r.ReadVarint64(&count) || count > r.remaining() / 13) return Bad("bad node count");
  Tree tree;
  tree.nodes.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; i++) {
    Node n;
    uint8_t type;
    ByteView v;
    if (!r.ReadLengthPrefixed(&n.name, kMaxName) || !ValidName(n.name))
      return Bad("bad name in node " + std::to_string(i));
    if (!tree.nodes.empty() && !(tree.nodes.back().name < n.name))
      return Bad("names not sorted or not unique at \"" + n.name + "\"");
    if (!r.ReadU8(&type) || !r.ReadVarint32(&n.mode, 07777) || !r.ReadVarint32(&n.uid) || !r.ReadVarint32(&n.gid) ||
        !r.ReadVarsint64(&n.mtime_ns) || !r.ReadVarsint64(&n.ctime_ns) || !r.ReadVarint64(&n.inode) ||
        !r.ReadVarint64(&n.dev) || !r.ReadVarint64(&n.size))
      return Bad("truncated or malformed metadata of \"" + n.name + "\"");
    switch (type) {
      case static_cast<uint8_t>(NodeType::kFile): {
        n.type = NodeType::kFile;
        uint64_t nchunks;
        if (!r.ReadHash256(&n.content_id)) return Bad("truncated content id of \"" + n.name + "\"");
        uint8_t layout = 0;
        if (version >= 2 && (!r.ReadU8(&layout) || layout > 2))
          return Bad("bad chunk-list layout of \"" + n.name + "\"");
        if (layout != 0) {
          // An index block names at most 1024 blocks of at most 512 refs.
          const uint64_t per_block = layout == 2 ? kChunkListIndexMaxLeaves * kChunkListMaxRefs : kChunkListMaxRefs;
          n.list_indexed = layout == 2;
          uint64_t nblocks;
          if (!r.ReadVarint64(&n.list_chunk_count) || !r.ReadVarint64(&nblocks) || nblocks == 0 ||
              nblocks > r.remaining() / 32 || n.list_chunk_count < nblocks ||
              n.list_chunk_count > nblocks * per_block || n.list_chunk_count > n.size)
            return Bad("bad chunk-list block count of \"" + n.name + "\"");
          n.list_blocks.resize(static_cast<size_t>(nblocks));
          for (Hash256& b : n.list_blocks) {
            if (!r.ReadHash256(&b)) return Bad("truncated chunk-list blocks of \"" + n.name + "\"");
          }
          break;  // size and content id are verified when the blocks are loaded
        }
        if (!r.ReadVarint64(&nchunks) || nchunks > r.remaining() / 33)
          return Bad("bad chunk count of \"" + n.name + "\"");
        n.chunks.resize(static_cast<size_t>(nchunks));
        uint64_t total = 0;
        for (ChunkRef& c : n.chunks) {
          if (!r.ReadHash256(&c.id) || !r.ReadVarint32(&c.raw_len, kMaxBlobSize))
            return Bad("truncated chunk list of \"" + n.name + "\"");
          total += c.raw_len;
        }
        if (total != n.size) return Bad("chunk lengths of \"" + n.name + "\" do not add up to its size");
        if (ContentIdOf(n.chunks) != n.content_id)
          return Bad("content id of \"" + n.name + "\" does not match its chunks");
        break;
      }
      case static_cast<uint8_t>(NodeType::kDir):
        n.type = NodeType::kDir;
        if (!r.ReadHash256(&n.subtree)) return Bad("truncated subtree id of \"" + n.name + "\"");
        break;
      case static_cast<uint8_t>(NodeType::kSymlink):
        n.type = NodeType::kSymlink;
        if (!r.ReadLengthPrefixed(&n.link_target, kMaxLinkTarget)) return Bad("bad link target of \"" + n.name + "\"");
        break;
      default: return Bad("unknown node type " + std::to_string(type) + " of \"" + n.name + "\"");
    }
    uint64_t next;
    if (!r.ReadVarint64(&next) || next > r.remaining() / 2) return Bad("bad extension count of \"" + n.name + "\"");
    n.extensions.resize(static_cast<size_t>(next));
    for (size_t k = 0; k < n.extensions.size(); k++) {
      NodeExtension& e = n.extensions[k];
      if (!r.ReadVarint32(&e.tag) || !r.ReadLengthPrefixed(&v, kMaxExtension))
        return Bad("truncated extension of \"" + n.name + "\"");
      if (k > 0 && n.extensions[k - 1].tag >= e.tag) return Bad("extensions not sorted of \"" + n.name + "\"");
      e.value.assign(v.begin(), v.end());
    }
    tree.nodes.push_back(std::move(n));
  }
  if (!r.empty()) return Bad("trailing bytes after the last node");
  return tree;
}

}  // namespace qm
