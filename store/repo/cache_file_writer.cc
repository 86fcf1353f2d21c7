#include "store/repo/cache_file_writer.h"

namespace qm {
namespace {
constexpr size_t kBufferBytes = 256 * 1024;  // a write(2) per 256 KiB
}  // namespace

CacheFileWriter::CacheFileWriter(Env* env, std::string tmp, std::string path, std::unique_ptr<WritableFile> file)
    : env_(env), tmp_(std::move(tmp)), path_(std::move(path)), file_(std::move(file)) {
  buf_.reserve(kBufferBytes);
}

CacheFileWriter::~CacheFileWriter() {
  if (committed_) return;
  file_.reset();  // closed before it is removed
  env_->RemoveFile(tmp_).IgnoreError();
}

Status CacheFileWriter::FlushBuffer() {
  if (!error_.ok() || buf_.empty()) return error_;
  error_ = file_->Append(buf_);
  buf_.clear();
  return error_;
}

Status CacheFileWriter::Append(ByteView data) {
  if (!error_.ok()) return error_;
  if (buf_.size() + data.size() > kBufferBytes) QM_RETURN_IF_ERROR(FlushBuffer());
  if (data.size() >= kBufferBytes) {
    error_ = file_->Append(data);
    return error_;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
  return Status::OK();
}

Result<std::unique_ptr<RandomAccessFile>> CacheFileWriter::ReadBack() {
  QM_RETURN_IF_ERROR(FlushBuffer());
  return env_->NewRandomAccessFile(tmp_);
}

Status CacheFileWriter::Commit() {
  QM_RETURN_IF_ERROR(FlushBuffer());
  if (committed_) return Status::InvalidArgument("cache file " + path_, "committed twice");
  error_ = file_->Close();
  if (error_.ok()) error_ = env_->RenameFile(tmp_, path_);
  if (error_.ok()) committed_ = true;
  return error_;
}

}  // namespace qm
