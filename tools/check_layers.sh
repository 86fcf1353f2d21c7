#!/usr/bin/env bash
# Checks that #include lines point one way: core <- store/io <- store/repo <- store/ops <- cli,
# with store/remote (the S3 client) above store/io: core <- store/io <- store/remote <- store/ops,
# and store/mount (the FUSE adapter, an OS boundary like store/io) on top: store/ops <- store/mount <- cli,
# and that only store/io and store/remote include the OS headers that do I/O. Exit 1 names every violation.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
fail=0
check() {  # dir, forbidden include prefixes...
  local dir=$1; shift
  for bad in "$@"; do
    hits=$(grep -rnE "#include \"$bad" "$dir" --include='*.h' --include='*.cc' 2>/dev/null)
    if [ -n "$hits" ]; then echo "layer violation: $dir must not include $bad"; echo "$hits"; fail=1; fi
  done
}
check core store/ cli/
check store/io store/repo store/ops store/remote store/mount cli/
check store/remote store/repo store/ops store/mount cli/
check store/repo store/ops store/remote store/mount cli/
check store/ops store/mount cli/
check store/mount cli/
# FUSE is spoken only by store/mount.
hits=$(grep -rnE '#include <fuse' core store/io store/repo store/ops store/remote cli --include='*.h' --include='*.cc' 2>/dev/null)
if [ -n "$hits" ]; then echo "FUSE outside store/mount:"; echo "$hits"; fail=1; fi
# Only store/io (and store/remote, for the file it uploads) may call the OS for
# file I/O; core does no I/O at all.
for dir in core store/repo store/ops cli; do
  hits=$(grep -rnE '#include <(fcntl\.h|unistd\.h|sys/stat\.h|dirent\.h|sys/file\.h)>' "$dir" --include='*.h' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then echo "OS I/O header outside store/io in $dir:"; echo "$hits"; fail=1; fi
done
# Libraries are loaded at run time only through store/io/dynamic_library.h.
hits=$(grep -rnE '#include <dlfcn\.h>' core store/repo store/remote store/ops store/mount cli --include='*.h' --include='*.cc' 2>/dev/null)
if [ -n "$hits" ]; then echo "dlopen outside store/io:"; echo "$hits"; fail=1; fi
# core links no database library.
hits=$(grep -rnE '#include [<"](rocksdb|sqlite3)' core 2>/dev/null)
if [ -n "$hits" ]; then echo "core must not use RocksDB or SQLite:"; echo "$hits"; fail=1; fi
[ $fail -eq 0 ] && echo "layers point one way"
exit $fail
