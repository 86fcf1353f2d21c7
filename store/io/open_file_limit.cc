#include <sys/resource.h>

#include <algorithm>

#include "store/io/env.h"

namespace qm {

uint64_t OpenFileLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  return rl.rlim_cur == RLIM_INFINITY ? kMaxOpenFileLimit : static_cast<uint64_t>(rl.rlim_cur);
}

uint64_t RaiseOpenFileLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  const rlim_t want =
      rl.rlim_max == RLIM_INFINITY ? kMaxOpenFileLimit : std::min<rlim_t>(rl.rlim_max, kMaxOpenFileLimit);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    rl.rlim_cur = want;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);  // on failure the old limit stays, and is reported
  }
  return OpenFileLimit();
}

}  // namespace qm
