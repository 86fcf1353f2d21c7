// libcurl, bound at first use (store/io/dynamic_library.h says why).
//
// curl_binding.cc defines the curl_* functions store/remote calls; each
// forwards to libcurl.so.4, loaded the first time any of them runs. Callers
// check CurlLoaded() first, so a host without libcurl gets one clear error
// instead of a failed handle.
#pragma once

#include "core/status.h"

namespace qm {

// OK once libcurl is loaded with every function qm-snap uses; otherwise
// NotSupported naming the library and why it could not be used.
Status CurlLoaded();

}  // namespace qm
