// Definitions of the libfuse3 functions qm-snap calls, forwarding to
// libfuse3.so.3 loaded at first use. Their prototypes come from <fuse.h>, so
// a definition that does not match the library's declaration does not
// compile. The executable does not export them, so libfuse's own internal
// calls never land here.
#define FUSE_USE_VERSION 31
#include "store/mount/fuse_binding.h"

#include <fuse.h>

#include "store/io/dynamic_library.h"

#define QM_FUSE_FUNCTIONS(X)  \
  X(fuse_mount)               \
  X(fuse_unmount)             \
  X(fuse_destroy)             \
  X(fuse_loop)                \
  X(fuse_get_context)         \
  X(fuse_get_session)         \
  X(fuse_opt_free_args)       \
  X(fuse_set_signal_handlers) \
  X(fuse_remove_signal_handlers)

// With versioned symbols (Debian's build) <fuse.h> declares fuse_new itself,
// the FUSE_3.1 version; without them it maps fuse_new to fuse_new_31.
#ifdef fuse_new
#define QM_FUSE_NEW fuse_new_31
#else
#define QM_FUSE_NEW fuse_new
#endif

namespace qm {
namespace {

struct FuseApi {
#define QM_MEMBER(name) decltype(&::name) name = nullptr;
  QM_FUSE_FUNCTIONS(QM_MEMBER)
#undef QM_MEMBER
  decltype(&::QM_FUSE_NEW) new_fs = nullptr;
};

Result<FuseApi> BindFuse() {
  auto lib = DynamicLibrary::Load("libfuse3.so.3");
  if (!lib.ok()) return lib.status().WithContext("mount needs libfuse3 (Debian package libfuse3-3)");
  FuseApi a;
#define QM_BIND(name) QM_RETURN_IF_ERROR((*lib)->Bind(#name, &a.name));
  QM_FUSE_FUNCTIONS(QM_BIND)
#undef QM_BIND
  // The fuse_new this header means: fuse_new@FUSE_3.1, or fuse_new_31.
  if (!(*lib)->Bind("fuse_new", &a.new_fs, "FUSE_3.1").ok()) QM_RETURN_IF_ERROR((*lib)->Bind("fuse_new_31", &a.new_fs));
  return a;
}

const Result<FuseApi>& Fuse() {
  static const Result<FuseApi> api = BindFuse();  // thread-safe static initialisation
  return api;
}

}  // namespace

Status FuseLoaded() {
  return Fuse().ok() ? Status::OK() : Fuse().status();
}

}  // namespace qm

namespace {
// The loaded functions; ServeFuse has checked FuseLoaded() before any call.
const qm::FuseApi& F() {
  return *qm::Fuse();
}
}  // namespace

extern "C" {

struct fuse* QM_FUSE_NEW(struct fuse_args* args, const struct fuse_operations* op, size_t op_size, void* data) {
  return F().new_fs(args, op, op_size, data);
}
int fuse_mount(struct fuse* f, const char* mountpoint) {
  return F().fuse_mount(f, mountpoint);
}
void fuse_unmount(struct fuse* f) {
  F().fuse_unmount(f);
}
void fuse_destroy(struct fuse* f) {
  F().fuse_destroy(f);
}
int fuse_loop(struct fuse* f) {
  return F().fuse_loop(f);
}
struct fuse_context* fuse_get_context(void) {
  return F().fuse_get_context();
}
struct fuse_session* fuse_get_session(struct fuse* f) {
  return F().fuse_get_session(f);
}
void fuse_opt_free_args(struct fuse_args* args) {
  F().fuse_opt_free_args(args);
}
int fuse_set_signal_handlers(struct fuse_session* se) {
  return F().fuse_set_signal_handlers(se);
}
void fuse_remove_signal_handlers(struct fuse_session* se) {
  F().fuse_remove_signal_handlers(se);
}

}  // extern "C"
