#define FUSE_USE_VERSION 31
#include "store/mount/fuse_mount.h"

#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/mount/fuse_binding.h"

namespace qm {
namespace {

SnapshotFs* Fs() {
  return static_cast<SnapshotFs*>(fuse_get_context()->private_data);
}

int Errno(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound: return -ENOENT;
    case Code::kInvalidArgument: return -EINVAL;
    default: return -EIO;
  }
}

void Fill(const FsEntry& e, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  switch (e.type) {
    case FsEntry::Type::kDir:
      st->st_mode = S_IFDIR | (e.mode & 07777);
      st->st_nlink = 2;
      break;
    case FsEntry::Type::kFile:
      st->st_mode = S_IFREG | (e.mode & 07777);
      st->st_nlink = 1;
      break;
    case FsEntry::Type::kSymlink:
      st->st_mode = S_IFLNK | 0777;
      st->st_nlink = 1;
      break;
  }
  st->st_size = static_cast<off_t>(e.size);
  st->st_blocks = static_cast<blkcnt_t>((e.size + 511) / 512);
  st->st_uid = ::getuid();
  st->st_gid = ::getgid();
  st->st_mtim.tv_sec = static_cast<time_t>(e.mtime_ns / 1000000000);
  st->st_mtim.tv_nsec = static_cast<long>(e.mtime_ns % 1000000000);
  st->st_ctim = st->st_mtim;
  st->st_atim = st->st_mtim;
}

int GetAttr(const char* path, struct stat* st, struct fuse_file_info*) {
  auto e = Fs()->Stat(path);
  if (!e.ok()) return Errno(e.status());
  Fill(*e, st);
  return 0;
}

int ReadLink(const char* path, char* buf, size_t size) {
  auto e = Fs()->Stat(path);
  if (!e.ok()) return Errno(e.status());
  if (e->type != FsEntry::Type::kSymlink) return -EINVAL;
  if (size == 0) return -EINVAL;
  const size_t n = std::min(size - 1, e->link_target.size());
  std::memcpy(buf, e->link_target.data(), n);
  buf[n] = '\0';
  return 0;
}

int ReadDir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, struct fuse_file_info*,
            enum fuse_readdir_flags) {
  auto list = Fs()->List(path);
  if (!list.ok()) return list.status().code() == Code::kInvalidArgument ? -ENOTDIR : Errno(list.status());
  filler(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  filler(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  for (const FsEntry& e : *list) {
    struct stat st;
    Fill(e, &st);
    if (filler(buf, e.name.c_str(), &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  return 0;
}

int Open(const char* path, struct fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  auto h = Fs()->Open(path);
  if (!h.ok()) return h.status().code() == Code::kInvalidArgument ? -EISDIR : Errno(h.status());
  fi->fh = *h;
  fi->keep_cache = 1;  // content never changes
  return 0;
}

int Read(const char*, char* buf, size_t size, off_t offset, struct fuse_file_info* fi) {
  if (offset < 0) return -EINVAL;
  auto n = Fs()->Read(fi->fh, static_cast<uint64_t>(offset), size, reinterpret_cast<uint8_t*>(buf));
  if (!n.ok()) return Errno(n.status());
  return static_cast<int>(*n);
}

int Release(const char*, struct fuse_file_info* fi) {
  Fs()->Release(fi->fh);
  return 0;
}

}  // namespace

Status ServeFuse(SnapshotFs* fs, const std::string& mountpoint, const std::function<void()>& on_mounted) {
  struct stat st;
  if (::stat(mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::InvalidArgument("mount point " + mountpoint, "must be an existing directory");
  if (::stat("/dev/fuse", &st) != 0)
    return Status::NotSupported("mount at " + mountpoint,
                                "FUSE is not available here: /dev/fuse is missing (load the fuse module, or give the "
                                "container --device /dev/fuse)");

  QM_RETURN_IF_ERROR(FuseLoaded());

  struct fuse_operations ops;
  std::memset(&ops, 0, sizeof(ops));
  ops.getattr = GetAttr;
  ops.readlink = ReadLink;
  ops.readdir = ReadDir;
  ops.open = Open;
  ops.read = Read;
  ops.release = Release;

  const char* argv[] = {"qm-snap", "-o", "ro,default_permissions,fsname=qm-snap,subtype=qm-snap"};
  struct fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(argv));
  struct fuse* f = fuse_new(&args, &ops, sizeof(ops), fs);
  fuse_opt_free_args(&args);  // fuse_new may have copied the arguments
  if (f == nullptr) return Status::NotSupported("mount at " + mountpoint, "libfuse could not set up the file system");
  if (fuse_mount(f, mountpoint.c_str()) != 0) {
    fuse_destroy(f);
    return Status::NotSupported("mount at " + mountpoint,
                                "FUSE refused the mount: check that fusermount3 is installed (Debian package fuse3), "
                                "that you may mount (root, or /etc/fuse.conf), and that nothing is mounted there");
  }
  struct fuse_session* se = fuse_get_session(f);
  Status s;
  if (fuse_set_signal_handlers(se) != 0) s = Status::IOError("mount", "cannot install signal handlers");
  if (s.ok()) {
    on_mounted();
    // Single-threaded: SnapshotFs is thread-safe, but one thread keeps the
    // memory bound simple and is plenty for inspection and sqlite3.
    // 0: unmounted; > 0: the signal that ended it (SIGINT/SIGTERM); < 0: -errno.
    const int rc = fuse_loop(f);
    if (rc < 0)
      s = Status::IOError("mount at " + mountpoint, std::string("FUSE session failed: ") + std::strerror(-rc));
    fuse_remove_signal_handlers(se);
  }
  fuse_unmount(f);
  fuse_destroy(f);
  return s;
}

}  // namespace qm
