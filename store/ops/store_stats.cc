#include "store/ops/store_stats.h"

#include <unordered_set>

#include "store/ops/snapshot_reader.h"

namespace qm {

Result<SnapshotStats> StatsOfSnapshot(Repository* repo, const Snapshot& snapshot) {
  SnapshotStats st;
  std::unordered_set<Hash256, Hash256Hasher> seen;
  QM_RETURN_IF_ERROR(WalkTree(repo, snapshot.record.root_tree, "", true, [&](const std::string&, const Node& n) {
    if (n.type != NodeType::kFile) return Status::OK();
    st.files++;
    st.bytes_logical += n.size;
    Node full = n;
    QM_RETURN_IF_ERROR(repo->ExpandChunkList(&full));
    for (const ChunkRef& c : full.chunks) {
      st.chunks++;
      if (!seen.insert(c.id).second) continue;
      st.unique_chunks++;
      st.bytes_unique += c.raw_len;
      QM_ASSIGN_OR_RETURN(ChunkIndex * index, repo->index());
      QM_ASSIGN_OR_RETURN(auto loc, index->Lookup(c.id));
      if (!loc)
        return Status::Corruption("chunk " + c.id.ShortHex(), "referenced by the snapshot but not in the index");
      // A blob in a shared frame is counted for its share of the frame.
      st.bytes_stored += loc->shared_frame()
                             ? static_cast<uint64_t>(loc->stored_len) * loc->raw_len / loc->frame_raw_len
                             : loc->stored_len;
    }
    return Status::OK();
  }));
  return st;
}

Result<StoreStats> StatsOfStore(Repository* repo) {
  StoreStats st;
  QM_ASSIGN_OR_RETURN(auto snaps, repo->ListSnapshots());
  st.snapshots = snaps.size();
  for (const Snapshot& s : snaps) st.bytes_logical += s.record.totals.bytes_logical;
  QM_ASSIGN_OR_RETURN(auto packs, repo->ListPacksOnDisk());
  st.packs = packs.size();
  for (const Hash256& p : packs) {
    QM_ASSIGN_OR_RETURN(FileInfo info, repo->env()->Stat(repo->layout().PackFile(p)));
    st.pack_bytes += info.size;
  }
  QM_ASSIGN_OR_RETURN(ChunkIndex * index, repo->index());
  QM_ASSIGN_OR_RETURN(st.blobs, index->CountBlobs());
  return st;
}

}  // namespace qm
