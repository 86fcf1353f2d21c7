#include <sys/stat.h>

#include "store/io/env.h"

namespace qm {

void RestrictFileCreationMask() {
  ::umask(077);
}

}  // namespace qm
