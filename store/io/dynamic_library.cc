#include "store/io/dynamic_library.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

namespace qm {

Result<const DynamicLibrary*> DynamicLibrary::Load(const std::string& soname) {
  static std::mutex mu;
  // Results are kept, failures too: a missing library is reported the same
  // way each time without retrying the search path.
  static std::map<std::string, Result<const DynamicLibrary*>>* loaded =
      new std::map<std::string, Result<const DynamicLibrary*>>();
  std::lock_guard<std::mutex> l(mu);
  auto it = loaded->find(soname);
  if (it != loaded->end()) return it->second;
  // RTLD_LOCAL: the library's symbols do not join the global scope, so a
  // library loaded later cannot bind to them by accident.
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  Result<const DynamicLibrary*> r = Status::NotSupported("");
  if (handle == nullptr) {
    const char* why = ::dlerror();
    r = Status::NotSupported(soname + " could not be loaded", why != nullptr ? why : "unknown reason");
  } else {
    r = static_cast<const DynamicLibrary*>(new DynamicLibrary(soname, handle));
  }
  return loaded->emplace(soname, std::move(r)).first->second;
}

Result<void*> DynamicLibrary::Symbol(const char* name, const char* version) const {
  void* sym = version != nullptr ? ::dlvsym(handle_, name, version) : ::dlsym(handle_, name);
  if (sym == nullptr) {
    return Status::NotSupported(soname_,
                                std::string("has no symbol ") + name + (version ? std::string("@") + version : ""));
  }
  return sym;
}

}  // namespace qm
