// libarchive, bound at first use (store/io/dynamic_library.h says why).
//
// libarchive_binding.cc defines the archive_* functions store/ops calls; each
// forwards to libarchive.so.13, loaded the first time any of them runs.
// Callers check LibarchiveLoaded() before the first archive_read_new().
#pragma once

#include "core/status.h"

namespace qm {

// OK once libarchive is loaded with every function qm-snap uses; otherwise
// NotSupported naming the library and why it could not be used.
Status LibarchiveLoaded();

}  // namespace qm
