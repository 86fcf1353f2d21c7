#!/usr/bin/env bash
# Export speed: `qm-snap export` against `tar -czf` and `tar -cf - | pigz` on the same files,
# in one run, on this machine (warm page cache). The files are the ones the snapshot holds:
# qm-snap restores the snapshot first and the other tools archive that restored tree, so
# every tool compresses exactly the same bytes.
#
# Usage: bash bench/export_compare.sh [--size 1G] [--work DIR] [--qm PATH]
#   --size  size of the generated data directory (default 1G)
#   --work  work directory (default /tmp/qm-export-bench); generated data kept in WORK/gen
#   --qm    qm-snap binary (default <repo>/build/qm-snap)
# Results: stdout and WORK/results.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
size=1G
work=/tmp/qm-export-bench
qm="$root/build/qm-snap"
die() { echo "export_compare: error: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --qm) qm=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[ -x "$qm" ] || die "qm-snap binary not found: $qm"
qm=$(cd "$(dirname "$qm")" && pwd)/$(basename "$qm")
if ! command -v pigz >/dev/null || [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" = 0 ] || die "pigz or /usr/bin/time missing; run as root to install them"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pigz time >/dev/null
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
if [ ! -f "$work/gen.marker" ] || [ "$(cat "$work/gen.marker")" != "$size" ]; then
  rm -rf "$work/gen"
  python3 "$root/tools/qm_workload.py" generate "$work/gen" --size "$size" --seed 1 >/dev/null
  echo "$size" > "$work/gen.marker"
fi
rm -rf "$work/repo" "$work/tree" "$work/out"
mkdir -p "$work/out"
"$qm" init --repo "$work/repo" -q >/dev/null
"$qm" backup --repo "$work/repo" --source "$work/gen" -q >/dev/null
"$qm" restore latest --repo "$work/repo" --target "$work/tree" -q >/dev/null
bytes=$(du -sb "$work/tree" | cut -f1)
cat "$work"/tree/*/* "$work"/tree/* >/dev/null 2>&1 || true   # warm the page cache

declare -a rows
run() {  # name, output glob (evaluated after the run), command...
  local name=$1 glob=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; die "$name failed"; }
  local wall user sys rss out
  read -r wall user sys rss < "$work/t"
  out=$(compgen -G "$glob" | head -1)
  rows+=("$name|$wall|$(echo "$user + $sys" | bc)|$((rss / 1024))|$(echo "scale=1; $(stat -c %s "$out") / 1048576" | bc)")
  echo "$name: $wall s" >&2
}
nproc=$(nproc)
export_cmd() { rm -rf "$work/out" && "$qm" export latest --repo "$work/repo" --output-dir "$work/out" -q --keep-days -1 "$@"; }
export -f export_cmd; export qm work
run "qm-snap export (tar.gz, libdeflate level 6, $nproc threads)" "$work/out/*.tar.gz" bash -c export_cmd
run "tar -czf (gzip -6, one core)" "$work/tar.tar.gz" tar -czf "$work/tar.tar.gz" -C "$work/tree" .
run "tar -cf - piped to pigz -p $nproc (-6)" "$work/pigz.tar.gz" bash -c "tar -cf - -C '$work/tree' . | pigz -p $nproc > '$work/pigz.tar.gz'"
run "qm-snap export --format tar.zst (level 3)" "$work/out/*.tar.zst" bash -c "export_cmd --format tar.zst"

{
  echo "# Export: qm-snap vs tar -czf vs tar piped to pigz"
  echo
  echo "Data: $size generated set, the snapshot's files: $bytes bytes. $nproc cores. Warm page cache."
  echo
  echo "| tool | wall s | user+sys CPU s | peak RSS MiB | output MiB |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for r in "${rows[@]}"; do IFS='|' read -r a b c d e <<< "$r"; echo "| $a | $b | $c | $d | $e |"; done
  echo
  IFS='|' read -r _ qmw _ <<< "${rows[0]}"; IFS='|' read -r _ tarw _ <<< "${rows[1]}"; IFS='|' read -r _ pigzw _ <<< "${rows[2]}"
  echo "Ratios: qm-snap/tar -czf $(echo "scale=2; $qmw / $tarw" | bc), qm-snap/pigz $(echo "scale=2; $qmw / $pigzw" | bc) (issue #4: <= 0.5 and <= 1.0)"
  echo
  echo "Run: \`bash bench/export_compare.sh --size $size --work $work\` on $(date -Iseconds)"
} | tee "$work/results.md"
