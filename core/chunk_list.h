// Chunk-list blocks: a large file's chunk list stored as content-addressed
// blobs (BlobType::kList) so that consecutive snapshots share the parts of
// the list that did not change. Without them a 1 GiB database's list (~130k
// refs, ~4.7 MB) would be written again every hour for a few MB of change.
//
// The list is split where the content says (after a chunk whose id's last
// byte has its low 3 bits zero; see the constants below), so a change in
// one region of a file changes only the block(s) holding its refs, and
// inserted refs re-synchronise at the next cut.
// Format in docs/format.md, "Chunk-list blocks". Decoder treats input as hostile.
#pragma once

#include <cstddef>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/tree.h"

namespace qm {

// Format limit: a block never holds more refs than this (decoders refuse more).
inline constexpr size_t kChunkListMaxRefs = 512;
// How SplitChunkList cuts: at least kChunkListMinRefs refs, a cut after a
// ref whose id's last byte has its low 3 bits zero, at most
// kChunkListSplitMaxRefs (average ~10 refs, ~360 bytes). Small blocks,
// because an hour's changed database pages are scattered over the whole
// file: on the 1 GiB generated set 3,884 changed pages touch most blocks of
// ~80 refs (5.9 MB of list rewritten per hour) but few of ~10 (2.3 MB,
// counting the larger tree node). Simulated in docs/performance.md.
inline constexpr size_t kChunkListMinRefs = 2;
inline constexpr uint8_t kChunkListCutMask = 7;
inline constexpr size_t kChunkListSplitMaxRefs = 64;
// Files with more chunks than this get their list in blocks.
inline constexpr size_t kChunkListInlineMax = 64;

// Whether a block ends after `ref`, the `len`-th ref of the block being
// filled. It depends on that ref and `len` only, never on earlier refs: so
// a list can be cut as it is produced, and the first ref of a list (which a
// database capture produces last) never decides a cut (len 1 < min).
inline bool ChunkListCutAfter(const ChunkRef& ref, size_t len) {
  return len >= kChunkListSplitMaxRefs || (len >= kChunkListMinRefs && (ref.id.bytes[31] & kChunkListCutMask) == 0);
}

// [begin, end) ranges of `chunks`, one per block, covering all of it.
std::vector<std::pair<size_t, size_t>> SplitChunkList(const std::vector<ChunkRef>& chunks);

Bytes EncodeChunkList(const ChunkRef* refs, size_t count);
// Appends the decoded refs to *out.
Status DecodeChunkList(ByteView data, std::vector<ChunkRef>* out);

// Chunk-list index blocks: a second level over the blocks above (tree
// layout 2). The node holds the ids of index blocks, each the ids of up to
// kChunkListIndexMaxLeaves consecutive blocks ("leaves") with their ref
// counts. Why: with one level the node held every leaf's id, ~22k ids per
// GiB of database (0.7 MB per GiB, in memory at least twice during a
// backup, and the one part of a run's memory that grew with the data); with
// two it holds ~1 id per 128 leaves. Every index block an hour touches is
// rewritten, and an hour's scattered pages touch nearly all of them, so the
// hourly bytes stay what the node's flat id list cost (~32 bytes per leaf).
struct ChunkListLeaf {
  Hash256 id;         // of the leaf block (EncodeChunkList)
  uint32_t refs = 0;  // how many refs it holds (1..kChunkListMaxRefs)
  bool operator==(const ChunkListLeaf&) const = default;
};

// Format limit (decoders refuse more).
inline constexpr size_t kChunkListIndexMaxLeaves = 1024;
// How writers cut: at least 2 leaves, a cut after a leaf whose id's last
// byte has its low 7 bits zero, at most 512 (average ~128 leaves, ~4.5 KB).
inline constexpr size_t kChunkListIndexMinLeaves = 2;
inline constexpr uint8_t kChunkListIndexCutMask = 127;
inline constexpr size_t kChunkListIndexSplitMaxLeaves = 512;

// Like ChunkListCutAfter: depends on that leaf and `len` only, and the
// first leaf of a list (a database capture's, saved last) never decides.
inline bool ChunkListIndexCutAfter(const Hash256& leaf, size_t len) {
  return len >= kChunkListIndexSplitMaxLeaves ||
         (len >= kChunkListIndexMinLeaves && (leaf.bytes[31] & kChunkListIndexCutMask) == 0);
}

Bytes EncodeChunkListIndex(const ChunkListLeaf* leaves, size_t count);
// Appends the decoded leaves to *out.
Status DecodeChunkListIndex(ByteView data, std::vector<ChunkListLeaf>* out);

}  // namespace qm
