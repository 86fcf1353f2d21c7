// DynamicLibrary: a shared library bound at first use instead of at process
// start.
//
// libcurl, libarchive and libfuse3 are needed by a few commands (upload,
// import, mount) but, linked normally, are loaded by every run: with their
// own dependencies (TLS, LDAP, Kerberos, SSH, XML...) they are 33 of the 51
// libraries qm-snap would map, ~16 ms of every process start on our hosts,
// a third of an unchanged hourly backup. Each binding file
// (store/remote/curl_binding.cc, store/ops/libarchive_binding.cc,
// store/mount/fuse_binding.cc) defines the library's functions that qm-snap
// calls and forwards them through this loader; the headers, and so the
// compiler's checking of every call, stay the library's own.
//
// Thread-safety: Load and Symbol may be called concurrently. A library, once
// loaded, stays loaded for the life of the process (never dlclose'd), so
// symbol pointers never dangle.
#pragma once

#include <string>

#include "core/result.h"
#include "core/status.h"

namespace qm {

class DynamicLibrary {
 public:
  // Loads `soname` (for example "libcurl.so.4") once per process; later calls
  // return the same library, or the same error, naming the library and the
  // loader's reason.
  static Result<const DynamicLibrary*> Load(const std::string& soname);

  // The address of `name` (at symbol version `version` when not null), or
  // NotSupported naming the symbol and the library.
  Result<void*> Symbol(const char* name, const char* version = nullptr) const;

  // Binds `*fn` to `name`. `F` must be the symbol's real type: callers take
  // it from the library's header with decltype(&name).
  template <class F>
  Status Bind(const char* name, F* fn, const char* version = nullptr) const {
    auto sym = Symbol(name, version);
    if (!sym.ok()) return sym.status();
    *fn = reinterpret_cast<F>(*sym);
    return Status::OK();
  }

  const std::string& soname() const { return soname_; }

 private:
  DynamicLibrary(std::string soname, void* handle) : soname_(std::move(soname)), handle_(handle) {}
  std::string soname_;
  void* handle_;
};

}  // namespace qm
