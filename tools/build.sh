#!/usr/bin/env bash
# Configures and builds qm-snap into ${BUILD_DIR:-build} (extra cmake flags in $CMAKE_FLAGS).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} ${CMAKE_FLAGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
echo "build: $build/qm-snap"
