// Chunk-list blocks: a large file's chunk list stored as content-addressed
// blobs (BlobType::kList) so that consecutive snapshots share the parts of
// the list that did not change. Without them a 1 GiB database's list (~130k
// refs, ~4.7 MB) would be written again every hour for a few MB of change.
//
// The list is split where the content says (after a chunk whose id's last
// byte has its low 6 bits zero; at least kMinRefs, at most kMaxRefs refs per
// block), so a change in one region of a file changes only the block(s)
// holding its refs, and inserted refs re-synchronise at the next cut.
// Format in docs/format.md, "Chunk-list blocks". Decoder treats input as hostile.
#pragma once

#include <cstddef>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/tree.h"

namespace qm {

inline constexpr size_t kChunkListMinRefs = 16;
inline constexpr size_t kChunkListMaxRefs = 512;
// Files with more chunks than this get their list in blocks.
inline constexpr size_t kChunkListInlineMax = 64;

// [begin, end) ranges of `chunks`, one per block, covering all of it.
std::vector<std::pair<size_t, size_t>> SplitChunkList(const std::vector<ChunkRef>& chunks);

Bytes EncodeChunkList(const ChunkRef* refs, size_t count);
// Appends the decoded refs to *out.
Status DecodeChunkList(ByteView data, std::vector<ChunkRef>* out);

}  // namespace qm
