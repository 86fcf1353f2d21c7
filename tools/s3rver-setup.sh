#!/usr/bin/env bash
# Installs s3rver (an S3-compatible test server, npm) for tests/remote, outside the
# source tree: into $QMSNAP_S3RVER_DIR, default /var/cache/qm-snap-test/s3rver when
# that is writable, else $HOME/.cache/qm-snap/s3rver (where the tests look too).
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
VERSION=3.7.1
dir=${QMSNAP_S3RVER_DIR:-}
if [ -z "$dir" ]; then
  if mkdir -p /var/cache/qm-snap-test/s3rver 2>/dev/null && [ -w /var/cache/qm-snap-test/s3rver ]; then
    dir=/var/cache/qm-snap-test/s3rver
  else
    dir=$HOME/.cache/qm-snap/s3rver
  fi
fi
pkg=$dir/node_modules/s3rver/package.json
if [ -f "$pkg" ] && grep -q "\"version\": \"$VERSION\"" "$pkg"; then
  echo "s3rver-setup: s3rver $VERSION present in $dir"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "s3rver-setup: npm is missing (tools/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$dir"
npm install --no-save --no-audit --no-fund --prefix "$dir" "s3rver@$VERSION" >/dev/null
echo "s3rver-setup: installed s3rver $VERSION into $dir"
