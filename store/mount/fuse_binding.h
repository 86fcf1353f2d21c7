// libfuse3, bound at first use (store/io/dynamic_library.h says why).
//
// fuse_binding.cc defines the fuse_* functions store/mount calls; each
// forwards to libfuse3.so.3, loaded the first time any of them runs.
// ServeFuse checks FuseLoaded() before its first fuse_new().
#pragma once

#include "core/status.h"

namespace qm {

// OK once libfuse3 is loaded with every function qm-snap uses; otherwise
// NotSupported naming the library and why it could not be used.
Status FuseLoaded();

}  // namespace qm
