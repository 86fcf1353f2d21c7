#!/usr/bin/env bash
# Quick-start command (2): install what is missing, build, run the whole test suite.
# Then runs it again under AddressSanitizer + UBSan in build-asan/ (QMSNAP_SANITIZE=0 skips that).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/install-deps.sh"
bash "$root/tools/s3rver-setup.sh"   # the S3 server tests/remote runs against
BUILD_DIR="$root/build" CMAKE_FLAGS="-DQMSNAP_WERROR=ON" bash "$root/tools/build.sh"
(cd "$root/build" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
if [ "${QMSNAP_SANITIZE:-1}" = "1" ]; then
  BUILD_DIR="$root/build-asan" BUILD_TYPE=Debug CMAKE_FLAGS="-DQMSNAP_SANITIZE=ON -DQMSNAP_BUILD_BENCH=OFF" \
    bash "$root/tools/build.sh"
  (cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$(nproc)" --timeout 1800)
fi
