#include "store/ops/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/hash.h"
#include "core/json_value.h"
#include "core/path.h"
#include "core/time_format.h"
#include "store/ops/libarchive_binding.h"
#include "store/ops/sqlite_check.h"

namespace qm {
namespace {

constexpr char kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
constexpr uint64_t kBombRatio = 1000;
// Bounds the memory spent on entry names: a QuantMesh archive has a few
// hundred entries, a hostile one could have millions of empty ones.
constexpr uint64_t kMaxEntries = 1000000;
constexpr size_t kWriteBuffer = 1 << 20;

// Feeds libarchive from an Env file and hashes every byte it reads.
struct Source {
  SequentialFile* file = nullptr;
  Sha256Hasher* hasher = nullptr;
  Bytes buf = Bytes(1 << 20);
  uint64_t read = 0;
  Status status;
};

la_ssize_t ReadCallback(struct archive*, void* ctx, const void** out) {
  auto* src = static_cast<Source*>(ctx);
  auto n = src->file->Read(src->buf.size(), src->buf.data());
  if (!n.ok()) {
    src->status = n.status();
    return -1;
  }
  src->hasher->Update(ByteView(src->buf.data(), *n));
  src->read += *n;
  *out = src->buf.data();
  return static_cast<la_ssize_t>(*n);
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// Why `path` (an entry name) is not safely inside `top`/, or "".
std::string PathProblem(std::string path, const std::string& top) {
  if (!path.empty() && path.front() == '/') return "is an absolute path";
  while (!path.empty() && path.back() == '/') path.pop_back();
  for (const std::string& part : SplitPath(path, /*keep_empty=*/true)) {
    if (part.empty() || part == "." || part == "..") return "has an empty, \".\" or \"..\" component";
  }
  if (path != top && path.rfind(top + "/", 0) != 0) return "is outside the top folder " + top + "/";
  return "";
}

// Why symlink `entry` -> `target` is unsafe, or "". Resolved by name: it
// must stay inside top/ and must not pass through another symlink of the
// archive (where ".." would leave from the other link's real place).
std::string LinkProblem(const std::string& entry, const std::string& target, const std::string& top,
                        const std::set<std::string>& links) {
  if (target.empty() || target.front() == '/') return "points outside the archive (" + target + ")";
  std::vector<std::string> at = SplitPath(entry, /*keep_empty=*/true);
  at.pop_back();  // the link's directory
  const std::vector<std::string> parts = SplitPath(target, /*keep_empty=*/true);
  for (size_t i = 0; i < parts.size(); i++) {
    const std::string& part = parts[i];
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (at.size() <= 1) return "points outside the archive (" + target + ")";
      at.pop_back();
    } else {
      at.push_back(part);
      if (i + 1 < parts.size() && links.count(Join(at)))
        return "points through another symlink (" + target + "), which could lead outside the archive";
    }
  }
  if (at.empty() || at.front() != top) return "points outside the archive (" + target + ")";
  return "";
}

// libarchive's message for the last failure (it may have none).
std::string ErrorOf(struct archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "unknown error";
}

struct Seen {
  uint64_t size = 0;
  std::string sha256;
  bool sqlite = false;
};

struct PendingLink {
  std::string name, target;
  int64_t mtime_ns = 0;
};

struct PendingDir {
  std::string rel;
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
};

int64_t MtimeOf(struct archive_entry* e) {
  return archive_entry_mtime(e) * 1000000000LL + (archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0);
}

class Reader {
 public:
  Reader(Env* env, const ArchiveReadOptions& options)
      : env_(env), opt_(options), extract_(!options.extract_to.empty()) {}
  ~Reader() {
    if (a_ != nullptr) archive_read_free(a_);
    if (!work_.empty()) RemoveTree(env_, work_).IgnoreError();
  }
  Result<ArchiveReport> Run();

 private:
  void Problem(const std::string& p) { report_.problems.push_back(p); }
  std::string Dest(const std::string& rel) const { return opt_.extract_to + "/" + rel; }
  // Reads the current entry's data; false when the stream cannot be trusted
  // past it. Errors are failures of our own writes.
  Result<bool> ReadFileEntry(const std::string& name, struct archive_entry* e);
  Status Finish();
  void CheckBackupInfo();

  Env* env_;
  const ArchiveReadOptions& opt_;
  const bool extract_;
  ArchiveReport report_;
  std::string top_;
  std::string work_;  // database copies when verifying
  struct archive* a_ = nullptr;
  std::map<std::string, Seen> files_;
  std::set<std::string> names_;
  std::set<std::string> links_;
  std::vector<PendingLink> pending_links_;
  std::vector<PendingDir> dirs_;
  std::string info_json_;
  uint64_t unpacked_ = 0;
  uint64_t bomb_limit_ = 0;
  int db_seq_ = 0;
};

Result<bool> Reader::ReadFileEntry(const std::string& name, struct archive_entry* e) {
  const bool is_info = name == top_ + "/backup_info.json";
  const std::string rel = name.substr(top_.size() + 1);
  Seen seen;
  Sha256Hasher fh;
  std::unique_ptr<WritableFile> out;
  std::string out_path;
  Bytes pending;
  auto open_out = [&](const std::string& path) -> Status {
    out_path = path;
    auto f = env_->NewWritableFile(path, 0600);
    if (!f.ok()) return f.status().WithContext("write " + rel);
    out = std::move(f).value();
    return Status::OK();
  };
  if (extract_ && !is_info) {
    // A name already taken (a file where a directory must go, or a
    // directory named like this file) is the archive's fault; anything else
    // is a failure of the disk.
    Status dirs = CreateDirs(env_, DirName(Dest(rel)), 0700);
    if (!dirs.ok() && dirs.code() != Code::kAlreadyExists) return dirs.WithContext("restore " + rel);
    if (dirs.ok() && env_->Stat(Dest(rel)).ok()) dirs = Status::AlreadyExists(rel, "a directory of that name exists");
    if (!dirs.ok()) {
      Problem("entry \"" + name + "\" cannot be placed: " + dirs.message());
      return true;  // skip its data; the stream itself is fine
    }
    QM_RETURN_IF_ERROR(open_out(Dest(rel)));
  }
  bool first = true, bad = false;
  const void* buf;
  size_t size;
  la_int64_t offset;
  while (true) {
    const int r = archive_read_data_block(a_, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      Problem("entry \"" + name + "\" is truncated or corrupt: " + ErrorOf(a_));
      bad = true;
      break;
    }
    if (static_cast<uint64_t>(offset) != seen.size) {
      Problem("entry \"" + name + "\" is sparse, which qm-snap archives never are");
      bad = true;
      break;
    }
    const ByteView data(static_cast<const uint8_t*>(buf), size);
    unpacked_ += size;
    if (unpacked_ > bomb_limit_) {
      Problem("the archive expands to more than " + std::to_string(kBombRatio) +
              " times its size (a decompression bomb); stopped reading");
      bad = true;
      break;
    }
    if (first && size >= sizeof(kSqliteMagic) && std::equal(kSqliteMagic, kSqliteMagic + 16, data.data())) {
      seen.sqlite = true;
      if (!extract_) QM_RETURN_IF_ERROR(open_out(JoinPath(work_, "db-" + std::to_string(++db_seq_))));
    }
    first = false;
    fh.Update(data);
    seen.size += size;
    if (out) {
      pending.insert(pending.end(), data.begin(), data.end());
      if (pending.size() >= kWriteBuffer) {
        QM_RETURN_IF_ERROR(out->Append(pending).WithContext("write " + rel));
        pending.clear();
      }
    }
    if (is_info) {
      if (info_json_.size() + size > (64u << 20)) {
        Problem("backup_info.json is larger than 64 MiB");
        bad = true;
        break;
      }
      info_json_.append(static_cast<const char*>(buf), size);
    }
  }
  if (out) {
    Status s = out->Append(pending);
    if (s.ok() && extract_) s = out->Sync();
    Status closed = out->Close();
    if (s.ok()) s = closed;
    if (s.ok() && extract_) s = env_->SetPermissions(out_path, archive_entry_perm(e) & 0777);
    if (s.ok() && extract_) s = env_->SetMtime(out_path, MtimeOf(e));
    QM_RETURN_IF_ERROR(s.WithContext("write " + rel));
    if (seen.sqlite && !bad) {
      report_.databases++;
      const std::string check = IntegrityCheckFile(out_path);
      if (check != "ok") Problem("database \"" + name + "\" fails PRAGMA integrity_check: " + check);
    }
    if (!extract_) env_->RemoveFile(out_path).IgnoreError();
  }
  if (bad) return false;
  seen.sha256 = fh.Finish().Hex();
  report_.bytes += seen.size;
  if (!is_info) {
    report_.files++;
    files_[rel] = seen;
  }
  return true;
}

Result<ArchiveReport> Reader::Run() {
  const std::string& path = opt_.archive;
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  const size_t dot = base.find(".tar");
  if (dot == std::string::npos || dot == 0)
    return Status::InvalidArgument(path, "not a NAME.tar.gz, NAME.tar.zst or NAME.tar.xz archive");
  report_.name = top_ = base.substr(0, dot);
  QM_RETURN_IF_ERROR(LibarchiveLoaded());

  QM_ASSIGN_OR_RETURN(FileInfo info, env_->Stat(path));
  QM_ASSIGN_OR_RETURN(auto file, env_->NewSequentialFile(path));
  Sha256Hasher hasher;
  Source src;
  src.file = file.get();
  src.hasher = &hasher;
  bomb_limit_ = kBombRatio * info.size + (1u << 20);

  if (!extract_) {
    work_ = JoinPath(opt_.tmp_dir,
                     "qm-verify-" + std::to_string(env_->ProcessId()) + "-" + std::to_string(env_->NowUnixNanos()));
    QM_RETURN_IF_ERROR(env_->CreateDir(work_, 0700).WithContext("temporary directory"));
  }

  a_ = archive_read_new();
  archive_read_support_filter_gzip(a_);
  archive_read_support_filter_zstd(a_);
  archive_read_support_filter_xz(a_);
  archive_read_support_format_tar(a_);
  bool stream_ok = false;
  if (archive_read_open(a_, &src, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    Problem(std::string("the archive cannot be read: ") + ErrorOf(a_));
  } else {
    uint64_t entries = 0;
    while (true) {
      struct archive_entry* e = nullptr;
      const int rc = archive_read_next_header(a_, &e);
      if (rc == ARCHIVE_EOF) {
        stream_ok = true;
        break;
      }
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        Problem(std::string("the archive is truncated or corrupt: ") + ErrorOf(a_));
        break;
      }
      unpacked_ += 512;  // a header, so that millions of empty entries count too
      if (++entries > kMaxEntries || unpacked_ > bomb_limit_) {
        Problem("the archive has more than " + std::to_string(kMaxEntries) +
                " entries or expands beyond bounds (a decompression bomb); stopped reading");
        break;
      }
      const char* raw = archive_entry_pathname(e);
      std::string name = raw ? raw : "";
      const std::string why = PathProblem(name, top_);
      if (!why.empty()) {
        Problem("entry \"" + name + "\" " + why);
        continue;
      }
      while (!name.empty() && name.back() == '/') name.pop_back();
      if (!names_.insert(name).second) {
        Problem("entry \"" + name + "\" appears twice");
        continue;
      }
      if (archive_entry_hardlink(e) != nullptr) {
        Problem("entry \"" + name + "\" is a hard link, which qm-snap archives never contain");
        continue;
      }
      const auto type = archive_entry_filetype(e);
      if (name == top_) {
        if (type != AE_IFDIR) Problem("entry \"" + name + "\" should be the top folder and is not a directory");
        continue;
      }
      const std::string rel = name.substr(top_.size() + 1);
      if (type == AE_IFDIR) {
        if (extract_) {
          Status made = CreateDirs(env_, Dest(rel), 0700);
          if (!made.ok() && made.code() != Code::kAlreadyExists) return made.WithContext("restore " + rel);
          if (!made.ok()) {
            Problem("entry \"" + name + "\" cannot be placed: " + made.message());
            continue;
          }
          dirs_.push_back({rel, static_cast<uint32_t>(archive_entry_perm(e) & 0777), MtimeOf(e)});
        }
        continue;
      }
      if (type == AE_IFLNK) {
        const char* target = archive_entry_symlink(e);
        links_.insert(name);
        pending_links_.push_back({name, target ? target : "", MtimeOf(e)});
        continue;
      }
      if (type != AE_IFREG) {
        Problem("entry \"" + name + "\" is a device, FIFO or other special file");
        continue;
      }
      QM_ASSIGN_OR_RETURN(bool go_on, ReadFileEntry(name, e));
      if (!go_on) break;  // the stream cannot be trusted past this entry
    }
  }
  archive_read_free(a_);
  a_ = nullptr;
  QM_RETURN_IF_ERROR(src.status.WithContext("read " + path));

  // Links are judged once every name is known: one may point through, or
  // have entries below, a link that comes later in the stream.
  for (const PendingLink& l : pending_links_) {
    const std::string why = LinkProblem(l.name, l.target, top_, links_);
    if (!why.empty()) Problem("symlink \"" + l.name + "\" " + why);
  }
  for (const std::string& name : names_) {
    for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      if (links_.count(name.substr(0, slash))) {
        Problem("entry \"" + name + "\" lies below symlink \"" + name.substr(0, slash) + "\"");
        break;
      }
    }
  }

  // The whole file, including anything after the tar stream, for the checksum.
  while (true) {
    QM_ASSIGN_OR_RETURN(size_t n, file->Read(src.buf.size(), src.buf.data()));
    if (n == 0) break;
    hasher.Update(ByteView(src.buf.data(), n));
  }
  const std::string actual = hasher.Finish().Hex();
  const std::string sum_path = path.substr(0, path.size() - base.size()) + top_ + ".sha256";
  auto sum = ReadFileToBytes(env_, sum_path, 4096);
  if (!sum.ok()) {
    Problem("no checksum file " + top_ + ".sha256 beside the archive (" + sum.status().message() + ")");
  } else {
    const std::string line(sum->begin(), sum->end());
    const std::string expect_line = actual + "  " + base + "\n";
    if (line.size() < 64 || line.substr(0, 64) != actual)
      Problem("the archive's SHA-256 " + actual.substr(0, 16) + "… does not match " + top_ + ".sha256");
    else if (line != expect_line && line != actual + " *" + base + "\n")
      Problem(top_ + ".sha256 does not name " + base);
  }

  if (stream_ok) CheckBackupInfo();
  if (extract_ && report_.ok()) QM_RETURN_IF_ERROR(Finish());
  return std::move(report_);
}

// Symlinks, then directories' modes and mtimes (deepest first: setting a
// child's would change its parent's mtime), then every directory synced so
// the new names are durable.
Status Reader::Finish() {
  for (const PendingLink& l : pending_links_) {
    const std::string rel = l.name.substr(top_.size() + 1);
    QM_RETURN_IF_ERROR(CreateDirs(env_, DirName(Dest(rel)), 0700).WithContext("restore " + rel));
    QM_RETURN_IF_ERROR(env_->CreateSymlink(l.target, Dest(rel)).WithContext("restore " + rel));
    QM_RETURN_IF_ERROR(env_->SetMtime(Dest(rel), l.mtime_ns).WithContext("restore " + rel));
  }
  std::set<std::string> to_sync = {opt_.extract_to};
  for (const auto& [rel, seen] : files_) to_sync.insert(DirName(Dest(rel)));
  for (const PendingLink& l : pending_links_) to_sync.insert(DirName(Dest(l.name.substr(top_.size() + 1))));
  for (const PendingDir& d : dirs_) to_sync.insert(Dest(d.rel));
  for (const std::string& dir : to_sync) QM_RETURN_IF_ERROR(env_->SyncDir(dir).WithContext("sync " + dir));
  std::vector<PendingDir> dirs = dirs_;
  std::sort(dirs.begin(), dirs.end(), [](const PendingDir& x, const PendingDir& y) { return x.rel > y.rel; });
  for (const PendingDir& d : dirs) {
    QM_RETURN_IF_ERROR(env_->SetPermissions(Dest(d.rel), d.mode).WithContext("restore " + d.rel));
    QM_RETURN_IF_ERROR(env_->SetMtime(Dest(d.rel), d.mtime_ns).WithContext("restore " + d.rel));
  }
  return Status::OK();
}

void Reader::CheckBackupInfo() {
  if (info_json_.empty()) {
    Problem("backup_info.json is missing");
    return;
  }
  auto doc = ParseJson(info_json_);
  if (!doc.ok()) {
    Problem("backup_info.json is not valid JSON: " + doc.status().message());
    return;
  }
  const JsonValue* list = doc->Find("files");
  if (doc->Find("format") == nullptr || doc->Find("format")->text != "qm-snap-archive") {
    Problem("backup_info.json is not a qm-snap archive description");
    return;
  }
  if (list == nullptr || list->type != JsonValue::Type::kArray) {
    Problem("backup_info.json has no file list");
    return;
  }
  auto text = [&](const char* key) {
    const JsonValue* v = doc->Find(key);
    return v != nullptr && v->type == JsonValue::Type::kString ? v->text : std::string();
  };
  ArchiveInfo& info = report_.info;
  info.snapshot_id = text("snapshot_id");
  info.hostname = text("hostname");
  info.source = text("source");
  info.qm_snap_version = text("qm_snap_version");
  auto when = ParseTime(text("time"));
  if (when.ok()) info.time_unix = *when;
  const JsonValue* tags = doc->Find("tags");
  if (tags != nullptr && tags->type == JsonValue::Type::kArray)
    for (const JsonValue& t : tags->array)
      if (t.type == JsonValue::Type::kString) info.tags.push_back(t.text);

  std::set<std::string> listed;
  for (const JsonValue& f : list->array) {
    const JsonValue* p = f.Find("path");
    const JsonValue* sz = f.Find("size");
    const JsonValue* sh = f.Find("sha256");
    if (!p || p->type != JsonValue::Type::kString || !sz || !sz->uint || !sh) {
      Problem("backup_info.json has a malformed file record");
      continue;
    }
    listed.insert(p->text);
    auto it = files_.find(p->text);
    if (it == files_.end()) {
      Problem("\"" + p->text + "\" is listed in backup_info.json but missing from the archive");
      continue;
    }
    if (it->second.size != *sz->uint)
      Problem("\"" + p->text + "\" is " + std::to_string(it->second.size) + " bytes, backup_info.json says " +
              std::to_string(*sz->uint));
    else if (it->second.sha256 != sh->text)
      Problem("\"" + p->text + "\" does not match its SHA-256 in backup_info.json");
    const JsonValue* db = f.Find("database");
    if (db != nullptr && !it->second.sqlite) Problem("\"" + p->text + "\" should be a SQLite database and is not");
  }
  for (const auto& [name, seen] : files_)
    if (!listed.count(name)) Problem("\"" + name + "\" is in the archive but not in backup_info.json");
}

}  // namespace

Result<ArchiveReport> ReadArchive(Env* env, const ArchiveReadOptions& options) {
  Reader reader(env, options);
  return reader.Run();
}

}  // namespace qm
