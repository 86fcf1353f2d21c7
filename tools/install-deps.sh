#!/usr/bin/env bash
# Installs everything qm-snap needs to build, test and run its demo on Debian 12.
# Run as root (or with sudo available). Safe to run again: apt-get skips what is there.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: run as root (apt-get needs it)" >&2; exit 1; fi
fi
PACKAGES=(
  build-essential cmake pkg-config git python3 sqlite3 zstd
  libsqlite3-dev libzstd-dev libxxhash-dev libssl-dev librocksdb-dev
  libcli11-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libdeflate-dev liblzma-dev libarchive-dev libarchive-tools xz-utils libcurl4-openssl-dev
  libfuse3-dev fuse3
)
# tests/remote: s3rver runs on node (npm installs it, tools/s3rver-setup.sh) and the AWS CLI
# checks uploads. Where node comes from NodeSource, its nodejs package already brings npm and
# conflicts with Debian's; an aws already on PATH (pip, v2 installer) is used as it is.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
command -v aws >/dev/null 2>&1 || PACKAGES+=(awscli)
export DEBIAN_FRONTEND=noninteractive
# On a freshly booted machine unattended-upgrades (or another apt) may hold
# apt's locks for minutes: wait for them instead of failing the first run.
# DPkg::Lock::Timeout covers dpkg's lock; `apt-get update` does not wait on
# the lists lock, so it (and a failed download) is retried. Any other
# failure (a package that does not exist, broken dependencies) is shown and
# fails at once: waiting would not fix it.
APT_WAIT=(-o DPkg::Lock::Timeout=600)
TRANSIENT='could not get lock|unable to lock|unable to acquire|failed to fetch|temporary failure|could not connect|connection (timed out|refused)|unable to fetch|failed to download|hash sum mismatch'
retry() {
  local i log
  log=$(mktemp)
  for i in $(seq 1 30); do
    if "$@" >"$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
    if ! grep -qiE "$TRANSIENT" "$log"; then
      cat "$log" >&2
      rm -f "$log"
      echo "install-deps: \"$*\" failed, and not because apt was busy or the network down" >&2
      return 1
    fi
    echo "install-deps: \"$*\" failed (apt busy or network down); retry $i of 30 in 10 s" >&2
    sleep 10
  done
  rm -f "$log"
  "$@"
}
retry $SUDO apt-get "${APT_WAIT[@]}" update -qq
retry $SUDO apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends "${PACKAGES[@]}"
echo "install-deps: ${#PACKAGES[@]} packages present"
