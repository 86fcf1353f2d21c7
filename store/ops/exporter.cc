#include "store/ops/exporter.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <regex>
#include <thread>

#include "core/json_writer.h"
#include "core/sqlite_extension.h"
#include "core/tar_header.h"
#include "core/time_format.h"
#include "store/ops/database_inspector.h"
#include "store/ops/snapshot_reader.h"

namespace qm {
namespace {

constexpr size_t kBlockSize = 4u << 20;

// Compresses blocks on `threads` threads and appends them to `file` in the
// order they were added, hashing what it writes. Add() and Finish() are
// called from one thread; at most 2 * threads blocks are in flight.
class ParallelBlockWriter {
 public:
  ParallelBlockWriter(ArchiveCompression c, int level, unsigned threads, WritableFile* file)
      : c_(c), level_(level), max_inflight_(2 * threads), file_(file) {
    for (unsigned i = 0; i < threads; i++) pool_.emplace_back([this] { Work(); });
  }
  ~ParallelBlockWriter() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : pool_) t.join();
  }

  Status Add(Bytes block) {
    auto slot = std::make_shared<Slot>();
    slot->in = std::move(block);
    {
      std::lock_guard<std::mutex> l(mu_);
      order_.push_back(slot);
      todo_.push_back(slot);
    }
    cv_.notify_all();
    return Drain(max_inflight_);
  }

  Status Finish() { return Drain(1); }

  uint64_t bytes() const { return bytes_; }
  Hash256 sha256() { return hasher_.Finish(); }

 private:
  struct Slot {
    Bytes in, out;
    bool done = false;
    Status status;
  };

  // Writes finished blocks from the head until fewer than `limit` remain.
  Status Drain(size_t limit) {
    while (true) {
      std::shared_ptr<Slot> head;
      {
        std::unique_lock<std::mutex> l(mu_);
        if (order_.size() < limit) return Status::OK();
        done_cv_.wait(l, [&] { return order_.front()->done; });
        head = order_.front();
        order_.pop_front();
      }
      if (!head->status.ok()) return head->status;
      QM_RETURN_IF_ERROR(file_->Append(head->out));
      hasher_.Update(head->out);
      bytes_ += head->out.size();
    }
  }

  void Work() {
    BlockCompressor compressor(c_, level_);
    while (true) {
      std::shared_ptr<Slot> slot;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stopping_ || !todo_.empty(); });
        if (todo_.empty()) return;
        slot = todo_.front();
        todo_.pop_front();
      }
      Status s = compressor.Compress(slot->in, &slot->out);
      Bytes().swap(slot->in);
      {
        std::lock_guard<std::mutex> l(mu_);
        slot->status = s;
        slot->done = true;
      }
      done_cv_.notify_all();
    }
  }

  const ArchiveCompression c_;
  const int level_;
  const size_t max_inflight_;
  WritableFile* const file_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::shared_ptr<Slot>> order_, todo_;
  bool stopping_ = false;
  std::vector<std::thread> pool_;
  Sha256Hasher hasher_;
  uint64_t bytes_ = 0;
};

// The tar byte stream, cut into blocks for the writer.
class TarStream {
 public:
  explicit TarStream(ParallelBlockWriter* out) : out_(out) { block_.reserve(kBlockSize); }
  Status Write(ByteView data) {
    total_ += data.size();
    while (!data.empty()) {
      const size_t n = std::min(data.size(), kBlockSize - block_.size());
      block_.insert(block_.end(), data.begin(), data.begin() + n);
      data = data.subspan(n);
      if (block_.size() == kBlockSize) QM_RETURN_IF_ERROR(Flush());
    }
    return Status::OK();
  }
  Status Pad(uint64_t size) {
    static const uint8_t kZeros[kTarBlockSize] = {};
    return Write(ByteView(kZeros, TarPadding(size)));
  }
  Status Flush() {
    if (block_.empty()) return Status::OK();
    Bytes full;
    full.reserve(kBlockSize);
    full.swap(block_);
    return out_->Add(std::move(full));
  }
  uint64_t total() const { return total_; }

 private:
  ParallelBlockWriter* out_;
  Bytes block_;
  uint64_t total_ = 0;
};

struct FileRecord {
  std::string path;  // relative to the snapshot root
  uint64_t size = 0;
  uint32_t mode = 0;
  int64_t mtime = 0;
  Hash256 sha256;
  std::optional<SqliteCaptureExt> database;
};

class Exporter {
 public:
  Exporter(Repository* repo, const Snapshot& snap, const std::string& top, ProgressSink* progress)
      : repo_(repo), snap_(snap), top_(top), progress_(progress) {}

  Status Run(TarStream* tar) {
    TarEntry root;
    root.path = top_;
    root.type = TarType::kDir;
    root.mode = 0700;  // the archive holds API keys and password hashes
    root.mtime = snap_.record.time_unix;
    QM_ASSIGN_OR_RETURN(Bytes h, EncodeTarHeader(root));
    QM_RETURN_IF_ERROR(tar->Write(h));
    QM_RETURN_IF_ERROR(WriteTree(tar, snap_.record.root_tree, ""));
    return WriteInfo(tar);
  }

  const std::vector<FileRecord>& files() const { return files_; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  Status WriteTree(TarStream* tar, const Hash256& tree_id, const std::string& rel) {
    QM_ASSIGN_OR_RETURN(Tree tree, repo_->LoadTreeShallow(tree_id));
    for (Node& node : tree.nodes) {
      const std::string child = rel.empty() ? node.name : rel + "/" + node.name;
      TarEntry e;
      e.path = top_ + "/" + child;
      e.mode = node.mode & 07777;
      e.mtime = node.mtime_ns / 1000000000;
      switch (node.type) {
        case NodeType::kDir: {
          e.type = TarType::kDir;
          QM_ASSIGN_OR_RETURN(Bytes h, EncodeTarHeader(e));
          QM_RETURN_IF_ERROR(tar->Write(h));
          QM_RETURN_IF_ERROR(WriteTree(tar, node.subtree, child));
          break;
        }
        case NodeType::kSymlink: {
          e.type = TarType::kSymlink;
          e.link_target = node.link_target;
          QM_ASSIGN_OR_RETURN(Bytes h, EncodeTarHeader(e));
          QM_RETURN_IF_ERROR(tar->Write(h));
          break;
        }
        case NodeType::kFile: {
          e.type = TarType::kFile;
          e.size = node.size;
          QM_ASSIGN_OR_RETURN(Bytes h, EncodeTarHeader(e));
          QM_RETURN_IF_ERROR(tar->Write(h));
          FileRecord rec;
          rec.path = child;
          rec.size = node.size;
          rec.mode = e.mode;
          rec.mtime = e.mtime;
          QM_RETURN_IF_ERROR(WriteContent(tar, node, &rec.sha256).WithContext("export " + child));
          QM_RETURN_IF_ERROR(tar->Pad(node.size));
          rec.database = DatabaseCaptureOf(node);
          files_.push_back(std::move(rec));
          data_bytes_ += node.size;
          if (progress_) progress_->FileDone(child, node.size, false);
          break;
        }
      }
    }
    return Status::OK();
  }

  // Streams a file's chunks into the tar stream (snapshot_reader.h: windows
  // of up to 8 MiB, the next loading while this one is framed).
  Status WriteContent(TarStream* tar, const Node& node, Hash256* sha) {
    Sha256Hasher hasher;
    QM_RETURN_IF_ERROR(ReadFileContent(repo_, node, [&](ByteView chunk) {
      hasher.Update(chunk);
      return tar->Write(chunk);
    }));
    *sha = hasher.Finish();
    return Status::OK();
  }

  Status WriteInfo(TarStream* tar) {
    JsonWriter j;
    j.BeginObject();
    j.Key("format").String("qm-snap-archive");
    j.Key("format_version").Int(1);
    j.Key("snapshot_id").String(snap_.id.Hex());
    j.Key("time").String(FormatTimeIsoUtc(snap_.record.time_unix));
    j.Key("hostname").String(snap_.record.hostname);
    j.Key("source").String(snap_.record.source);
    j.Key("tags").BeginArray();
    for (const std::string& t : snap_.record.tags) j.String(t);
    j.EndArray();
    j.Key("qm_snap_version").String(snap_.record.program_version);
    j.Key("files").BeginArray();
    for (const FileRecord& f : files_) {
      j.BeginObject();
      j.Key("path").String(f.path);
      j.Key("size").Uint(f.size);
      j.Key("sha256").String(f.sha256.Hex());
      if (f.database) {
        j.Key("database").BeginObject();
        j.Key("page_size").Uint(f.database->page_size);
        j.Key("page_count").Uint(f.database->page_count);
        j.Key("journal_mode").String(f.database->wal ? "wal" : "rollback");
        j.Key("quick_check").String(QuickCheckText(f.database->quick_check));
        j.EndObject();
      }
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
    std::string text = j.str() + "\n";
    TarEntry e;
    e.path = top_ + "/backup_info.json";
    e.mode = 0600;
    e.mtime = snap_.record.time_unix;
    e.size = text.size();
    QM_ASSIGN_OR_RETURN(Bytes h, EncodeTarHeader(e));
    QM_RETURN_IF_ERROR(tar->Write(h));
    QM_RETURN_IF_ERROR(tar->Write(AsBytes(text)));
    return tar->Pad(text.size());
  }

  Repository* repo_;
  const Snapshot& snap_;
  const std::string top_;
  ProgressSink* progress_;
  std::vector<FileRecord> files_;
  uint64_t data_bytes_ = 0;
};

Status ApplyRetention(Env* env, const std::string& dir, int keep_days, const std::string& keep,
                      std::vector<std::string>* removed) {
  static const std::regex kOurs(R"(^[0-9]{8}_[0-9]{6}\.(tar\.gz|tar\.zst|tar\.xz|sha256)$)");
  QM_ASSIGN_OR_RETURN(auto names, env->GetChildren(dir));
  const int64_t cutoff_ns = env->NowUnixNanos() - int64_t{keep_days} * 86400 * 1000000000;
  for (const std::string& name : names) {
    if (!std::regex_match(name, kOurs) || name.rfind(keep, 0) == 0) continue;
    const std::string path = JoinPath(dir, name);
    auto info = env->Stat(path);
    if (!info.ok() || info->type != FileType::kRegular || info->mtime_ns >= cutoff_ns) continue;
    QM_RETURN_IF_ERROR(env->RemoveFile(path).WithContext("retention"));
    removed->push_back(path);
  }
  std::sort(removed->begin(), removed->end());
  return Status::OK();
}

}  // namespace

Result<ExportResult> Export(Repository* repo, const Snapshot& snapshot, const ExportOptions& options,
                            ProgressSink* progress) {
  const auto t0 = std::chrono::steady_clock::now();
  Env* env = repo->env();
  const int level = options.level < 0 ? DefaultArchiveLevel(options.compression) : options.level;
  QM_RETURN_IF_ERROR(CheckArchiveLevel(options.compression, level));
  if (options.output_dir.empty()) return Status::InvalidArgument("export", "no output directory given");
  QM_RETURN_IF_ERROR(CreateDirs(env, options.output_dir, 0700).WithContext("create " + options.output_dir));

  ExportResult result;
  result.name = FormatTimeCompactUtc(snapshot.record.time_unix);
  const std::string file_name = result.name + "." + std::string(ArchiveExtension(options.compression));
  result.archive_path = JoinPath(options.output_dir, file_name);
  result.checksum_path = JoinPath(options.output_dir, result.name + ".sha256");
  const std::string tmp = JoinPath(options.output_dir, "." + file_name + ".tmp-" + std::to_string(env->ProcessId()));

  QM_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp, 0600));
  const unsigned threads = options.threads ? options.threads : env->Concurrency();
  Status s;
  Exporter exporter(repo, snapshot, result.name, progress);
  {
    ParallelBlockWriter writer(options.compression, level, threads, file.get());
    TarStream tar(&writer);
    s = exporter.Run(&tar);
    if (s.ok()) s = tar.Write(TarEndOfArchive());
    if (s.ok()) s = tar.Flush();
    if (s.ok()) s = writer.Finish();
    result.tar_bytes = tar.total();
    result.archive_bytes = writer.bytes();
    result.archive_sha256 = writer.sha256();
  }
  if (s.ok()) s = file->Sync();
  Status closed = file->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = env->RenameFile(tmp, result.archive_path);
  if (!s.ok()) {
    env->RemoveFile(tmp).IgnoreError();
    return s.WithContext("export " + result.archive_path);
  }
  QM_RETURN_IF_ERROR(env->SyncDir(options.output_dir));
  // sha256sum's format, so `sha256sum -c NAME.sha256` works inside the directory.
  const std::string line = result.archive_sha256.Hex() + "  " + file_name + "\n";
  QM_RETURN_IF_ERROR(
      WriteFileAtomic(env, result.checksum_path, AsBytes(line), 0600).WithContext("write " + result.checksum_path));
  result.files = exporter.files().size();
  result.data_bytes = exporter.data_bytes();
  if (options.keep_days >= 0)
    QM_RETURN_IF_ERROR(ApplyRetention(env, options.output_dir, options.keep_days, result.name, &result.removed));
  result.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace qm
