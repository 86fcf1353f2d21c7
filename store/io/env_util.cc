// Helpers built only on the Env interface, so they work unchanged over a
// fault-injecting Env in tests. No OS headers here.
#include <string>
#include <utility>

#include "store/io/env.h"

namespace qm {

Result<Bytes> ReadFileToBytes(Env* env, const std::string& path, uint64_t max_size) {
  QM_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, env->NewSequentialFile(path));
  // Sized from stat first, so a large file (the 9.8 MB fingerprint cache of
  // a 1 GiB database) is read into one buffer: growing it 64 KiB at a time
  // reallocated and copied it a dozen times, 0.17 s where the read is 0.04 s.
  // The size is only a hint: the loop reads until end of file either way.
  Bytes out;
  auto info = env->Stat(path);
  if (info.ok() && info->size < max_size) out.reserve(static_cast<size_t>(info->size) + 1);
  constexpr size_t kChunk = 64 * 1024;
  while (true) {
    if (out.capacity() == out.size()) out.reserve(out.size() * 2 + kChunk);
    const size_t old_size = out.size();
    const size_t room = out.capacity() - old_size;
    out.resize(old_size + room);
    Result<size_t> n = file->Read(room, out.data() + old_size);
    if (!n.ok()) return n.status();
    out.resize(old_size + *n);
    if (*n == 0) break;
    if (out.size() > max_size) {
      return Status::InvalidArgument(path, "larger than the limit of " + std::to_string(max_size) + " bytes");
    }
  }
  return out;
}

Status RemoveTree(Env* env, const std::string& path) {
  Result<FileInfo> info = env->Stat(path);  // lstat: a symlink is removed, never followed
  if (!info.ok()) return info.status().IsNotFound() ? Status::OK() : info.status();
  if (info->type != FileType::kDirectory) return env->RemoveFile(path);
  // A read-only directory (restored with its archived mode) must become
  // writable to be emptied when we are not root.
  if ((info->mode & 0700) != 0700) env->SetPermissions(path, 0700).IgnoreError();
  QM_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(path));
  for (const std::string& name : children) QM_RETURN_IF_ERROR(RemoveTree(env, path + "/" + name));
  return env->RemoveDir(path);
}

namespace {

// Writes `data` to `tmp` (synced first when `sync`) and renames it over
// `path`; on failure removes `tmp` and returns the first error.
Status ReplaceVia(Env* env, const std::string& tmp, const std::string& path, ByteView data, uint32_t mode, bool sync) {
  Status s;
  {
    Result<std::unique_ptr<WritableFile>> file = env->NewWritableFile(tmp, mode);
    if (!file.ok()) return file.status();
    s = (*file)->Append(data);
    if (s.ok() && sync) s = (*file)->Sync();
    if (s.ok()) s = (*file)->Close();
    // The file object is destroyed (closing the descriptor) before the
    // temporary is removed below.
  }
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    // The original error is the one that matters; a leftover temporary is
    // harmless (not a valid name) and removed by the next writer.
    env->RemoveFile(tmp).IgnoreError();
  }
  return s;
}

}  // namespace

Status WriteFileAtomic(Env* env, const std::string& path, ByteView data, uint32_t mode) {
  // The temporary lives in the same directory so the rename cannot cross a
  // file system, and carries the pid so concurrent writers (which the
  // repository lock should prevent anyway) never share a temporary.
  QM_RETURN_IF_ERROR(ReplaceVia(env, path + ".tmp-" + std::to_string(env->ProcessId()), path, data, mode, true));
  // After a successful rename the new content is in place; a failing
  // SyncDir means it may not survive a crash, and the caller must not treat
  // the write as durable.
  return env->SyncDir(DirName(path));
}

Status ReplaceFileUnsynced(Env* env, const std::string& tmp, const std::string& path, ByteView data, uint32_t mode) {
  return ReplaceVia(env, tmp, path, data, mode, false);
}

namespace {

// True when `path` names a directory, following a symlink. Stat() is
// lstat(), so a symlinked directory ("/var/run" -> "/run") is recognised by
// listing it, which only works for directories.
bool IsDirectory(Env* env, const std::string& path, const FileInfo& info) {
  if (info.type == FileType::kDirectory) return true;
  if (info.type != FileType::kSymlink) return false;
  return env->GetChildren(path).ok();
}

std::string StripTrailingSlashes(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  return path.substr(0, end);
}

}  // namespace

Status CreateDirs(Env* env, const std::string& path_in, uint32_t mode) {
  if (path_in.empty()) return Status::InvalidArgument("mkdir", "empty path");
  const std::string path = StripTrailingSlashes(path_in);
  Result<FileInfo> info = env->Stat(path);
  if (info.ok()) {
    if (IsDirectory(env, path, *info)) return Status::OK();
    return Status::AlreadyExists("mkdir " + path, "exists and is not a directory");
  }
  if (!info.status().IsNotFound()) return info.status();

  const std::string parent = DirName(path);
  if (parent != path) QM_RETURN_IF_ERROR(CreateDirs(env, parent, mode));
  Status s = env->CreateDir(path, mode);
  if (s.code() == Code::kAlreadyExists) {
    // Created concurrently by someone else: fine if it is a directory.
    Result<FileInfo> again = env->Stat(path);
    if (again.ok() && IsDirectory(env, path, *again)) return Status::OK();
  }
  return s;
}

// POSIX dirname(): trailing slashes are not a component, repeated slashes
// count as one, the parent of "/x" is "/" and of a bare name ".".
std::string DirName(const std::string& path_in) {
  const std::string path = StripTrailingSlashes(path_in);
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  size_t end = slash;
  while (end > 0 && path[end - 1] == '/') --end;
  if (end == 0) return "/";
  return path.substr(0, end);
}

// `b` is always taken relative to `a`: JoinPath("/r", "/x") is "/r/x", so a
// name read from a repository can never escape it by starting with '/'.
// Either side empty yields the other.
std::string JoinPath(const std::string& a, const std::string& b) {
  size_t start = 0;
  while (start < b.size() && b[start] == '/') ++start;
  if (a.empty()) return b;
  if (start == b.size()) return a;
  std::string out = a;
  if (out.back() != '/') out += '/';
  out.append(b, start, std::string::npos);
  return out;
}

}  // namespace qm
