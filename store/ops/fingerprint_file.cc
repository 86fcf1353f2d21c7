#include "store/ops/fingerprint_file.h"

#include <algorithm>
#include <functional>

namespace qm {
namespace {

// Entries per piece, for both passes of a reader and the writer's read-back:
// ~64 KiB per read.
constexpr uint64_t kPieceEntries = 1489;

// Piece `piece` of a record's first `count` entries, into *out.
Status ReadPiece(const RandomAccessFile& file, uint64_t piece, uint64_t count, Bytes* out) {
  const uint64_t j = piece * kPieceEntries;
  out->resize(std::min(kPieceEntries, count - j) * kPageFingerprintEntrySize);
  return file.ReadAt(kPageFingerprintsHeaderSize + j * kPageFingerprintEntrySize, out->size(), out->data());
}

PageFingerprintEntry EntryOf(const Bytes& piece, uint64_t i) {
  return DecodePageFingerprintEntry(ByteView(piece).subspan(i * kPageFingerprintEntrySize, kPageFingerprintEntrySize));
}

// Reads the first `count` entries piece by piece: `on_piece` sees each
// piece's bytes, and the refs of the first `hash_refs` entries go to
// *content in order.
Status ReadEntries(const RandomAccessFile& file, uint64_t count, uint64_t hash_refs, ContentIdHasher* content,
                   const std::function<void(ByteView)>& on_piece) {
  Bytes piece;
  for (uint64_t p = 0; p * kPieceEntries < count; p++) {
    QM_RETURN_IF_ERROR(ReadPiece(file, p, count, &piece));
    on_piece(piece);
    const uint64_t j = p * kPieceEntries, n = piece.size() / kPageFingerprintEntrySize;
    for (uint64_t i = 0; i < n && j + i < hash_refs; i++) content->Add(EntryOf(piece, i).ref);
  }
  return Status::OK();
}

}  // namespace

std::unique_ptr<FingerprintFileReader> FingerprintFileReader::Open(Repository* repo, const Hash256& key,
                                                                   const Hash256& content_id, uint32_t page_size,
                                                                   uint64_t count) {
  auto opened = repo->OpenCacheFile(key);
  if (!opened.ok() || !*opened || count == 0) return nullptr;
  std::unique_ptr<RandomAccessFile> file = std::move(opened).value();
  const uint64_t size = file->Size();
  if (size < kPageFingerprintsHeaderSize + kPageFingerprintsTrailerSize) return nullptr;
  Bytes header(kPageFingerprintsHeaderSize), trailer(kPageFingerprintsTrailerSize), last(kPageFingerprintEntrySize);
  if (!file->ReadAt(0, header.size(), header.data()).ok() ||
      !file->ReadAt(size - trailer.size(), trailer.size(), trailer.data()).ok())
    return nullptr;
  auto ps = DecodePageFingerprintsHeader(header);
  auto t = DecodePageFingerprintsTrailer(trailer, size);
  if (!ps.ok() || *ps != page_size || !t.ok() || t->count != count || t->content_id != content_id) return nullptr;
  // Chunk 0's entry is the last one; the refs hash in file order, it first.
  const uint64_t last_at = kPageFingerprintsHeaderSize + (count - 1) * kPageFingerprintEntrySize;
  if (!file->ReadAt(last_at, last.size(), last.data()).ok()) return nullptr;
  const PageFingerprintEntry first = DecodePageFingerprintEntry(last);

  Xxh3Hasher sum;
  sum.Update(header);
  ContentIdHasher content;
  content.Add(first.ref);
  std::vector<uint64_t> piece_sums;
  // The last entry (chunk 0) is already in the content id.
  Status read = ReadEntries(*file, count, count - 1, &content, [&](ByteView piece) {
    sum.Update(piece);
    piece_sums.push_back(Xxh3_64(piece));
  });
  if (!read.ok()) return nullptr;
  sum.Update(ByteView(trailer).first(trailer.size() - 8));
  if (sum.Digest() != t->checksum || content.Finish() != content_id) return nullptr;
  return std::unique_ptr<FingerprintFileReader>(
      new FingerprintFileReader(std::move(file), count, first, std::move(piece_sums)));
}

FingerprintFileReader::FingerprintFileReader(std::unique_ptr<RandomAccessFile> file, uint64_t count,
                                             PageFingerprintEntry first, std::vector<uint64_t> piece_sums)
    : file_(std::move(file)), count_(count), first_(first), piece_sums_(std::move(piece_sums)) {}

bool FingerprintFileReader::LoadPiece(uint64_t piece) {
  if (!ReadPiece(*file_, piece, count_, &piece_).ok() || Xxh3_64(piece_) != piece_sums_[piece]) {
    failed_ = true;  // not the bytes that were verified: never used
    return false;
  }
  piece_index_ = piece;
  return true;
}

std::optional<PageFingerprintEntry> FingerprintFileReader::Get(uint64_t k) {
  if (k == 0) return first_;
  if (failed_ || k != next_ || k >= count_) {
    failed_ = true;  // out of order: the reading ends (the archiver asks in order)
    return std::nullopt;
  }
  next_++;
  const uint64_t j = k - 1;  // entry j holds chunk j + 1
  if (j / kPieceEntries != piece_index_ && !LoadPiece(j / kPieceEntries)) return std::nullopt;
  return EntryOf(piece_, j % kPieceEntries);
}

Result<std::unique_ptr<FingerprintFileWriter>> FingerprintFileWriter::Create(Repository* repo, const Hash256& key,
                                                                             uint32_t page_size) {
  QM_ASSIGN_OR_RETURN(std::unique_ptr<CacheFileWriter> out, repo->NewCacheFileWriter(key));
  std::unique_ptr<FingerprintFileWriter> w(new FingerprintFileWriter(std::move(out)));
  Bytes header;
  PutPageFingerprintsHeader(&header, page_size);
  QM_RETURN_IF_ERROR(w->Append(header));
  return w;
}

Status FingerprintFileWriter::Append(ByteView b) {
  sum_.Update(b);
  return out_->Append(b);
}

Status FingerprintFileWriter::Add(const PageFingerprintEntry& e) {
  scratch_.clear();
  PutPageFingerprintEntry(&scratch_, e);
  entries_sum_.Update(scratch_);
  added_++;
  return Append(scratch_);
}

void FingerprintFileWriter::SetFirst(const PageFingerprintEntry& e) {
  first_ = e;
}

Result<Hash256> FingerprintFileWriter::Finish() {
  if (!first_) return Status::InvalidArgument("page fingerprints", "chunk 0 never set");
  const std::string ctx = "page fingerprints";
  QM_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> back, out_->ReadBack());
  ContentIdHasher content;
  content.Add(first_->ref);
  Xxh3Hasher check;
  QM_RETURN_IF_ERROR(
      ReadEntries(*back, added_, added_, &content, [&](ByteView piece) { check.Update(piece); }).WithContext(ctx));
  if (check.Digest() != entries_sum_.Digest())
    return Status::Corruption(ctx, "the refs read back differ from those written");
  const Hash256 content_id = content.Finish();
  scratch_.clear();
  PutPageFingerprintEntry(&scratch_, *first_);
  QM_RETURN_IF_ERROR(Append(scratch_));
  scratch_.clear();
  PutPageFingerprintsTrailer(&scratch_, added_ + 1, content_id, &sum_);
  // The trailer fed its own first bytes to sum_; only the bytes reach the file.
  QM_RETURN_IF_ERROR(out_->Append(scratch_));
  QM_RETURN_IF_ERROR(out_->Commit());
  return content_id;
}

}  // namespace qm
