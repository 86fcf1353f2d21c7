#include "store/ops/archive_verifier.h"

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include <map>
#include <set>

#include "core/hash.h"
#include "core/json_value.h"

namespace qm {
namespace {

constexpr char kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
constexpr uint64_t kBombRatio = 1000;

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

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Why `path` (an entry name) is not safely inside `top`/, or "".
std::string PathProblem(std::string path, const std::string& top) {
  if (!path.empty() && path.front() == '/') return "is an absolute path";
  while (!path.empty() && path.back() == '/') path.pop_back();
  for (const std::string& part : Split(path)) {
    if (part.empty() || part == "." || part == "..") return "has an empty, \".\" or \"..\" component";
  }
  if (path != top && path.rfind(top + "/", 0) != 0) return "is outside the top folder " + top + "/";
  return "";
}

// Whether symlink `entry` -> `target` resolves inside top/.
bool LinkStaysInside(const std::string& entry, const std::string& target, const std::string& top) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> at = Split(entry);
  at.pop_back();  // the link's directory
  for (const std::string& part : Split(target)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (at.size() <= 1) return false;  // would leave top/
      at.pop_back();
    } else {
      at.push_back(part);
    }
  }
  return !at.empty() && at.front() == top;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  std::string result;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    result = std::string("cannot be opened: ") + (db ? sqlite3_errmsg(db) : "out of memory");
  } else {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
      result = sqlite3_errmsg(db);
    } else {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(st, 0);
        result = t ? reinterpret_cast<const char*>(t) : "";
      } else {
        result = sqlite3_errmsg(db);
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return result;
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

}  // namespace

Result<VerifyReport> VerifyArchive(Env* env, const VerifyOptions& options) {
  VerifyReport report;
  const std::string& path = options.archive;
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  const size_t dot = base.find(".tar");
  if (dot == std::string::npos || dot == 0)
    return Status::InvalidArgument("verify " + path, "not a NAME.tar.gz, NAME.tar.zst or NAME.tar.xz archive");
  report.name = base.substr(0, dot);
  const std::string& top = report.name;
  auto problem = [&](const std::string& p) { report.problems.push_back(p); };

  QM_ASSIGN_OR_RETURN(FileInfo info, env->Stat(path));
  QM_ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(path));
  Sha256Hasher hasher;
  Source src;
  src.file = file.get();
  src.hasher = &hasher;

  // A private directory for database copies (SQLite needs a file).
  const std::string work = JoinPath(
      options.tmp_dir, "qm-verify-" + std::to_string(env->ProcessId()) + "-" + std::to_string(env->NowUnixNanos()));
  QM_RETURN_IF_ERROR(env->CreateDir(work, 0700).WithContext("verify: temporary directory"));

  struct archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_xz(a);
  archive_read_support_format_tar(a);
  std::map<std::string, Seen> files;
  std::set<std::string> names;
  std::string info_json;
  bool stream_ok = false;
  uint64_t unpacked = 0;
  const uint64_t bomb_limit = kBombRatio * info.size + (1u << 20);
  int db_seq = 0;
  if (archive_read_open(a, &src, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    problem(std::string("the archive cannot be read: ") + ErrorOf(a));
  } else {
    while (true) {
      struct archive_entry* e = nullptr;
      const int rc = archive_read_next_header(a, &e);
      if (rc == ARCHIVE_EOF) {
        stream_ok = true;
        break;
      }
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        problem(std::string("the archive is truncated or corrupt: ") + ErrorOf(a));
        break;
      }
      const char* raw = archive_entry_pathname(e);
      std::string name = raw ? raw : "";
      const std::string why = PathProblem(name, top);
      if (!why.empty()) {
        problem("entry \"" + name + "\" " + why);
        continue;
      }
      while (!name.empty() && name.back() == '/') name.pop_back();
      if (!names.insert(name).second) {
        problem("entry \"" + name + "\" appears twice");
        continue;
      }
      if (archive_entry_hardlink(e) != nullptr) {
        problem("entry \"" + name + "\" is a hard link, which qm-snap archives never contain");
        continue;
      }
      const auto type = archive_entry_filetype(e);
      if (type == AE_IFDIR) continue;
      if (type == AE_IFLNK) {
        const char* target = archive_entry_symlink(e);
        if (!LinkStaysInside(name, target ? target : "", top))
          problem("symlink \"" + name + "\" points outside the archive (" + (target ? target : "") + ")");
        continue;
      }
      if (type != AE_IFREG) {
        problem("entry \"" + name + "\" is a device, FIFO or other special file");
        continue;
      }
      const bool is_info = name == top + "/backup_info.json";
      Seen seen;
      Sha256Hasher fh;
      std::unique_ptr<WritableFile> copy;
      std::string copy_path;
      bool first = true, bad = false;
      const void* buf;
      size_t size;
      la_int64_t offset;
      while (true) {
        const int r = archive_read_data_block(a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
          problem("entry \"" + name + "\" is truncated or corrupt: " + ErrorOf(a));
          bad = true;
          break;
        }
        if (static_cast<uint64_t>(offset) != seen.size) {
          problem("entry \"" + name + "\" is sparse, which qm-snap archives never are");
          bad = true;
          break;
        }
        const ByteView data(static_cast<const uint8_t*>(buf), size);
        unpacked += size;
        if (unpacked > bomb_limit) {
          problem("the archive expands to more than " + std::to_string(kBombRatio) +
                  " times its size (a decompression bomb); stopped reading");
          bad = true;
          break;
        }
        if (first && size >= sizeof(kSqliteMagic) && std::equal(kSqliteMagic, kSqliteMagic + 16, data.data())) {
          seen.sqlite = true;
          copy_path = JoinPath(work, "db-" + std::to_string(++db_seq));
          auto f = env->NewWritableFile(copy_path, 0600);
          if (!f.ok()) return f.status().WithContext("verify: temporary copy of " + name);
          copy = std::move(f).value();
        }
        first = false;
        fh.Update(data);
        seen.size += size;
        if (copy) QM_RETURN_IF_ERROR(copy->Append(data).WithContext("verify: temporary copy of " + name));
        if (is_info) {
          if (info_json.size() + size > (64u << 20)) {
            problem("backup_info.json is larger than 64 MiB");
            bad = true;
            break;
          }
          info_json.append(static_cast<const char*>(buf), size);
        }
      }
      if (copy) {
        Status closed = copy->Close();
        if (!bad && closed.ok()) {
          report.databases++;
          const std::string check = IntegrityCheck(copy_path);
          if (check != "ok") problem("database \"" + name + "\" fails PRAGMA integrity_check: " + check);
        }
        env->RemoveFile(copy_path).IgnoreError();
      }
      if (bad) break;  // the stream cannot be trusted past this entry
      seen.sha256 = fh.Finish().Hex();
      report.bytes += seen.size;
      if (!is_info) {
        report.files++;
        files[name.substr(top.size() + 1)] = seen;
      }
    }
  }
  archive_read_free(a);
  env->RemoveDir(work).IgnoreError();
  QM_RETURN_IF_ERROR(src.status.WithContext("read " + path));

  // The whole file, including anything after the tar stream, for the checksum.
  while (true) {
    QM_ASSIGN_OR_RETURN(size_t n, file->Read(src.buf.size(), src.buf.data()));
    if (n == 0) break;
    hasher.Update(ByteView(src.buf.data(), n));
  }
  const std::string actual = hasher.Finish().Hex();
  const std::string sum_path = path.substr(0, path.size() - base.size()) + top + ".sha256";
  auto sum = ReadFileToBytes(env, sum_path, 4096);
  if (!sum.ok()) {
    problem("no checksum file " + top + ".sha256 beside the archive (" + sum.status().message() + ")");
  } else {
    const std::string line(sum->begin(), sum->end());
    const std::string expect_line = actual + "  " + base + "\n";
    if (line.size() < 64 || line.substr(0, 64) != actual)
      problem("the archive's SHA-256 " + actual.substr(0, 16) + "… does not match " + top + ".sha256");
    else if (line != expect_line && line != actual + " *" + base + "\n")
      problem(top + ".sha256 does not name " + base);
  }

  if (stream_ok) {
    if (info_json.empty()) {
      problem("backup_info.json is missing");
    } else {
      auto doc = ParseJson(info_json);
      const JsonValue* list = doc.ok() ? doc->Find("files") : nullptr;
      if (!doc.ok()) {
        problem("backup_info.json is not valid JSON: " + doc.status().message());
      } else if (doc->Find("format") == nullptr || doc->Find("format")->text != "qm-snap-archive") {
        problem("backup_info.json is not a qm-snap archive description");
      } else if (list == nullptr || list->type != JsonValue::Type::kArray) {
        problem("backup_info.json has no file list");
      } else {
        std::set<std::string> listed;
        for (const JsonValue& f : list->array) {
          const JsonValue* p = f.Find("path");
          const JsonValue* sz = f.Find("size");
          const JsonValue* sh = f.Find("sha256");
          if (!p || p->type != JsonValue::Type::kString || !sz || !sz->uint || !sh) {
            problem("backup_info.json has a malformed file record");
            continue;
          }
          listed.insert(p->text);
          auto it = files.find(p->text);
          if (it == files.end()) {
            problem("\"" + p->text + "\" is listed in backup_info.json but missing from the archive");
            continue;
          }
          if (it->second.size != *sz->uint)
            problem("\"" + p->text + "\" is " + std::to_string(it->second.size) + " bytes, backup_info.json says " +
                    std::to_string(*sz->uint));
          else if (it->second.sha256 != sh->text)
            problem("\"" + p->text + "\" does not match its SHA-256 in backup_info.json");
          const JsonValue* db = f.Find("database");
          if (db != nullptr && !it->second.sqlite)
            problem("\"" + p->text + "\" should be a SQLite database and is not");
        }
        for (const auto& [name, seen] : files)
          if (!listed.count(name)) problem("\"" + name + "\" is in the archive but not in backup_info.json");
      }
    }
  }
  return report;
}

}  // namespace qm
