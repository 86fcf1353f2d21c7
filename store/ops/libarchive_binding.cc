// Definitions of the libarchive functions qm-snap calls, forwarding to
// libarchive.so.13 loaded at first use. Their prototypes come from
// <archive.h> and <archive_entry.h>, so a definition that does not match the
// library's declaration does not compile. The executable does not export
// them, so libarchive's own internal calls never land here.
#include "store/ops/libarchive_binding.h"

#include <archive.h>
#include <archive_entry.h>

#include "store/io/dynamic_library.h"

#define QM_LIBARCHIVE_FUNCTIONS(X)    \
  X(archive_read_new)                 \
  X(archive_read_support_filter_gzip) \
  X(archive_read_support_filter_zstd) \
  X(archive_read_support_filter_xz)   \
  X(archive_read_support_format_tar)  \
  X(archive_read_open)                \
  X(archive_read_next_header)         \
  X(archive_read_data_block)          \
  X(archive_read_free)                \
  X(archive_error_string)             \
  X(archive_entry_filetype)           \
  X(archive_entry_hardlink)           \
  X(archive_entry_mtime)              \
  X(archive_entry_mtime_nsec)         \
  X(archive_entry_mtime_is_set)       \
  X(archive_entry_pathname)           \
  X(archive_entry_perm)               \
  X(archive_entry_symlink)

namespace qm {
namespace {

struct LibarchiveApi {
#define QM_MEMBER(name) decltype(&::name) name = nullptr;
  QM_LIBARCHIVE_FUNCTIONS(QM_MEMBER)
#undef QM_MEMBER
};

Result<LibarchiveApi> BindLibarchive() {
  auto lib = DynamicLibrary::Load("libarchive.so.13");
  if (!lib.ok()) return lib.status().WithContext("reading archives needs libarchive (Debian package libarchive13)");
  LibarchiveApi a;
#define QM_BIND(name) QM_RETURN_IF_ERROR((*lib)->Bind(#name, &a.name));
  QM_LIBARCHIVE_FUNCTIONS(QM_BIND)
#undef QM_BIND
  return a;
}

const Result<LibarchiveApi>& Libarchive() {
  static const Result<LibarchiveApi> api = BindLibarchive();  // thread-safe static initialisation
  return api;
}

}  // namespace

Status LibarchiveLoaded() {
  return Libarchive().ok() ? Status::OK() : Libarchive().status();
}

}  // namespace qm

namespace {
// The loaded functions; callers have checked LibarchiveLoaded(), and every
// function below needs a `struct archive*` or an entry, which only a loaded
// library hands out, so none runs unloaded.
const qm::LibarchiveApi& A() {
  return *qm::Libarchive();
}
}  // namespace

extern "C" {

struct archive* archive_read_new(void) {
  return qm::Libarchive().ok() ? A().archive_read_new() : nullptr;
}
int archive_read_support_filter_gzip(struct archive* a) {
  return A().archive_read_support_filter_gzip(a);
}
int archive_read_support_filter_zstd(struct archive* a) {
  return A().archive_read_support_filter_zstd(a);
}
int archive_read_support_filter_xz(struct archive* a) {
  return A().archive_read_support_filter_xz(a);
}
int archive_read_support_format_tar(struct archive* a) {
  return A().archive_read_support_format_tar(a);
}
int archive_read_open(struct archive* a, void* client_data, archive_open_callback* open, archive_read_callback* read,
                      archive_close_callback* close) {
  return A().archive_read_open(a, client_data, open, read, close);
}
int archive_read_next_header(struct archive* a, struct archive_entry** entry) {
  return A().archive_read_next_header(a, entry);
}
int archive_read_data_block(struct archive* a, const void** buff, size_t* size, la_int64_t* offset) {
  return A().archive_read_data_block(a, buff, size, offset);
}
int archive_read_free(struct archive* a) {
  return A().archive_read_free(a);
}
const char* archive_error_string(struct archive* a) {
  return A().archive_error_string(a);
}
__LA_MODE_T archive_entry_filetype(struct archive_entry* e) {
  return A().archive_entry_filetype(e);
}
const char* archive_entry_hardlink(struct archive_entry* e) {
  return A().archive_entry_hardlink(e);
}
time_t archive_entry_mtime(struct archive_entry* e) {
  return A().archive_entry_mtime(e);
}
long archive_entry_mtime_nsec(struct archive_entry* e) {
  return A().archive_entry_mtime_nsec(e);
}
int archive_entry_mtime_is_set(struct archive_entry* e) {
  return A().archive_entry_mtime_is_set(e);
}
const char* archive_entry_pathname(struct archive_entry* e) {
  return A().archive_entry_pathname(e);
}
__LA_MODE_T archive_entry_perm(struct archive_entry* e) {
  return A().archive_entry_perm(e);
}
const char* archive_entry_symlink(struct archive_entry* e) {
  return A().archive_entry_symlink(e);
}

}  // extern "C"
