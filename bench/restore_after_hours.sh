#!/usr/bin/env bash
# Restore after many hourly backups: qm-snap, restic and borg each back up the same
# generated QuantMesh data directory once, then after each of N simulated hours of
# trading, and the latest snapshot of each is then restored and timed. An hour's
# changed pages land in that hour's packs (segments, for borg), so the latest snapshot
# of a database lies scattered over N + 1 runs' worth of them: this measures what that
# costs a restore, which a fresh repository (bench/e2e_compare.sh) does not show.
#
# Usage: bash bench/restore_after_hours.sh [--size 1G] [--hours 48] [--work DIR]
#                                          [--qm PATH] [--level N] [--runs R] [--keep]
#   --size   size of the generated data (default 1G); WORK/gen is reused when
#            WORK/gen.marker names the same size (the layout of bench/e2e_compare.sh,
#            so the two can share a WORK directory)
#   --hours  simulated hours after the initial backup (default 48; ~20 s each at 1G on
#            2 cores; restic's and borg's repositories grow ~400 MB each per hour at 1G,
#            so 48 hours need ~45 GB of free disk in WORK)
#   --work   work directory (default /tmp/qm-bench)
#   --qm     qm-snap binary (default <repo>/build/qm-snap)
#   --level  zstd level for qm-snap and borg (default 3)
#   --runs   restores timed per tool (default 2)
#   --keep   keep WORK/hours-* (repositories and source) afterwards
#
# Hour h runs `qm_workload.py mutate --seed h+1`. Backups are not timed. Each restore
# goes into a fresh directory after `sync`; qm-snap also restores its first snapshot
# from the same repository, for the cost of the hours alone. Results: stdout and
# WORK/hours-results.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
size=1G
hours=48
work=/tmp/qm-bench
qm="$root/build/qm-snap"
level=3
runs=2
keep=0
cmdline="bash $0 $*"

die() { echo "restore_after_hours: error: $*" >&2; exit 1; }
note() { echo "== $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --size) [ $# -ge 2 ] || die "--size needs a value"; size=$2; shift 2 ;;
    --hours) [ $# -ge 2 ] || die "--hours needs a value"; hours=$2; shift 2 ;;
    --work) [ $# -ge 2 ] || die "--work needs a value"; work=$2; shift 2 ;;
    --qm) [ $# -ge 2 ] || die "--qm needs a value"; qm=$2; shift 2 ;;
    --level) [ $# -ge 2 ] || die "--level needs a value"; level=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$hours" =~ ^[0-9]+$ ]] || die "--hours must be a number, not '$hours'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number, not '$runs'"

workload="$root/tools/qm_workload.py"
[ -x "$qm" ] || die "qm-snap binary not found or not executable: $qm (build it or pass --qm PATH)"
qm=$(cd "$(dirname "$qm")" && pwd)/$(basename "$qm")
. "$root/bench/common.sh"
ensure_peer_tools
mkdir -p "$work" || die "cannot create work directory $work"
work=$(cd "$work" && pwd)

d="$work/hours"
export RESTIC_PASSWORD=x
export RESTIC_CACHE_DIR="$d-cache-restic"
export BORG_BASE_DIR="$d-cache-borg"
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
rm -rf "$d" "$RESTIC_CACHE_DIR" "$BORG_BASE_DIR"
mkdir -p "$d/logs"

ensure_generated_set "$root" "$work" "$size" delete
src="$d/src"
cp -a "$work/gen" "$src" || die "cannot copy $work/gen to $src"

backup_all() {  # backup_all NAME: one backup by each tool; a failure stops the run
  local name=$1
  "$qm" backup --repo "$d/repo-qm-snap" --source "$src" --json > "$d/logs/qm-$name.json" 2> "$d/logs/qm-$name.err" \
    || die "qm-snap backup $name failed: $(tail -n1 "$d/logs/qm-$name.err")"
  restic -r "$d/repo-restic" backup "$src" --host bench -q > "$d/logs/restic-$name.log" 2>&1 \
    || die "restic backup $name failed: $(tail -n1 "$d/logs/restic-$name.log")"
  borg create --compression "zstd,$level" "$d/repo-borg::h-$name" "$src" > "$d/logs/borg-$name.log" 2>&1 \
    || die "borg create $name failed: $(tail -n1 "$d/logs/borg-$name.log")"
}

"$qm" init --repo "$d/repo-qm-snap" --compression-level "$level" > /dev/null || die "qm-snap init failed"
restic init --repo "$d/repo-restic" > /dev/null 2>&1 || die "restic init failed"
borg init --encryption=none "$d/repo-borg" > /dev/null 2>&1 || die "borg init failed"
note "initial backups"
backup_all 0
for h in $(seq 1 "$hours"); do
  python3 "$workload" mutate "$src" --seed $((h + 1)) > /dev/null || die "mutate --seed $((h + 1)) failed"
  backup_all "$h"
  [ $((h % 10)) -ne 0 ] || note "hour $h of $hours"
done
sync

first_qm=$("$qm" snapshots --repo "$d/repo-qm-snap" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
declare -A CMD=(
  [qm-snap]="\"$qm\" restore latest --repo \"$d/repo-qm-snap\" --target \"\$T\""
  [qm-snap-first]="\"$qm\" restore $first_qm --repo \"$d/repo-qm-snap\" --target \"\$T\""
  [restic]="restic -r \"$d/repo-restic\" restore latest --target \"\$T\""
  [borg]="cd \"\$T\" && borg extract \"$d/repo-borg::h-$hours\""
)
declare -A RES
for r in $(seq 1 "$runs"); do
  for t in qm-snap qm-snap-first restic borg; do
    T="$d/restore"
    rm -rf "$T"; mkdir -p "$T"; sync
    if ! T="$T" /usr/bin/time -f "%e %U %S %M" -o "$d/logs/time" bash -c "${CMD[$t]}" > "$d/logs/restore-$t.log" 2>&1; then
      die "$t restore failed: $(tail -n1 "$d/logs/restore-$t.log")"
    fi
    read -r wall user sys rss < "$d/logs/time"
    RES[$t]="${RES[$t]:-}${RES[$t]:+, }$wall s (cpu $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') s, $(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }') MiB)"
  done
done
rm -rf "$d/restore"

{
  echo "# Restore after $hours simulated hours ($size set)"
  echo
  echo "Command: \`$cmdline\`; $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores."
  echo
  echo "| restore | wall (cpu, peak RSS) per run |"
  echo "| --- | --- |"
  echo "| qm-snap, latest | ${RES[qm-snap]} |"
  echo "| qm-snap, first snapshot (same repository) | ${RES[qm-snap-first]} |"
  echo "| restic, latest | ${RES[restic]} |"
  echo "| borg, latest | ${RES[borg]} |"
  echo
  echo "Repositories (du -sb): qm-snap $(du -sb "$d/repo-qm-snap" | cut -f1), restic $(du -sb "$d/repo-restic" | cut -f1), borg $(du -sb "$d/repo-borg" | cut -f1) bytes; source $(du -sb "$src" | cut -f1) bytes."
  echo
  echo "Versions: $("$qm" --version 2>&1 | head -n1); $(restic version | head -n1); $(borg --version)."
} | tee "$work/hours-results.md"
[ "$keep" = 1 ] || rm -rf "$d" "$RESTIC_CACHE_DIR" "$BORG_BASE_DIR"
