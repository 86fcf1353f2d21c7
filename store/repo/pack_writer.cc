#include "store/repo/pack_writer.h"

namespace qm {

PackWriter::PackWriter(Env* env, const RepoLayout* layout, std::string tmp_name)
    : env_(env), layout_(layout), tmp_path_(layout->TmpDir() + "/" + tmp_name) {}

PackWriter::~PackWriter() {
  if (file_) {
    // An unsealed pack is garbage; removing it is a courtesy (the next
    // writer also clears tmp/).
    file_->Close().IgnoreError();
    file_.reset();
    env_->RemoveFile(tmp_path_).IgnoreError();
  }
}

namespace {
constexpr size_t kWriteBufferSize = 1 << 20;
}  // namespace

Status PackWriter::Open() {
  auto f = env_->NewWritableFile(tmp_path_, 0600);
  if (!f.ok()) return f.status();
  file_ = std::move(f).value();
  // The buffer is allocated once, at its full size, and never grows: a
  // pack's buffer that grew by doubling was a fresh allocation (and fresh
  // pages) at every step, for every pack.
  buffer_.reserve(kWriteBufferSize);
  return Write(EncodePackHeader());
}

// Appends to the buffer, or writes `data` on its own when it would not fit
// in an empty one; the buffer never exceeds kWriteBufferSize.
Status PackWriter::Write(ByteView data) {
  hasher_.Update(data);
  offset_ += data.size();
  if (buffer_.size() + data.size() > kWriteBufferSize) QM_RETURN_IF_ERROR(FlushBuffer());
  if (data.size() >= kWriteBufferSize) {
    Status s = file_->Append(data);
    if (!s.ok()) failed_ = true;
    return s;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  return Status::OK();
}

Status PackWriter::FlushBuffer() {
  if (buffer_.empty()) return Status::OK();
  Status s = file_->Append(buffer_);
  buffer_.clear();
  if (!s.ok()) failed_ = true;
  return s;
}

Status PackWriter::Add(BlobType type, const Hash256& id, Compression compression, uint32_t raw_len, ByteView stored) {
  if (failed_) return Status::Aborted("pack writer", "used after a failure");
  if (!file_) QM_RETURN_IF_ERROR(Open());
  PackEntry e;
  e.type = type;
  e.compression = compression;
  e.id = id;
  e.offset = offset_;
  e.stored_len = static_cast<uint32_t>(stored.size());
  e.raw_len = raw_len;
  QM_RETURN_IF_ERROR(Write(stored));
  entries_.push_back(e);
  return Status::OK();
}

Status PackWriter::AddSharedFrame(BlobType type, const std::vector<Member>& members, ByteView frame) {
  if (failed_) return Status::Aborted("pack writer", "used after a failure");
  uint64_t frame_raw_len = 0;
  for (const Member& m : members) frame_raw_len += m.raw_len;
  if (members.empty() || frame_raw_len > kMaxSharedFrameSize)
    return Status::InvalidArgument("pack writer", "a shared frame of no blobs, or too large");
  if (!file_) QM_RETURN_IF_ERROR(Open());
  const uint64_t offset = offset_;
  QM_RETURN_IF_ERROR(Write(frame));
  uint32_t at = 0;
  for (const Member& m : members) {
    PackEntry e;
    e.type = type;
    e.compression = Compression::kZstd;
    e.id = m.id;
    e.offset = offset;
    e.stored_len = static_cast<uint32_t>(frame.size());
    e.raw_len = m.raw_len;
    e.frame_raw_len = static_cast<uint32_t>(frame_raw_len);
    e.raw_offset = at;
    at += m.raw_len;
    entries_.push_back(e);
  }
  return Status::OK();
}

Result<SealedPack> PackWriter::Seal() {
  if (failed_) return Status::Aborted("pack writer", "used after a failure");
  if (!file_) return Status::InvalidArgument("pack writer", "nothing to seal");
  failed_ = true;  // whatever happens below, this writer is finished
  Status s = Write(EncodePackFooter(entries_));
  if (s.ok()) s = FlushBuffer();
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  if (!s.ok()) return s.WithContext("seal pack");
  file_.reset();

  SealedPack sealed;
  sealed.id = hasher_.Finish();
  sealed.size = offset_;
  sealed.entries = std::move(entries_);
  const std::string final_path = layout_->PackFile(sealed.id);
  s = env_->RenameFile(tmp_path_, final_path);
  if (!s.ok()) {
    env_->RemoveFile(tmp_path_).IgnoreError();
    return s.WithContext("seal pack");
  }
  // The rename is durable only once the shard directory is synced; until
  // then the pack must not be indexed.
  QM_RETURN_IF_ERROR(env_->SyncDir(layout_->PackShardDir(sealed.id)).WithContext("seal pack"));
  return sealed;
}

}  // namespace qm
