#!/usr/bin/env bash
# End-to-end comparison of qm-snap with restic and borg on one generated QuantMesh
# data directory, in one run, on this machine (warm page cache throughout).
#
# Usage: bash bench/e2e_compare.sh [--size 1G] [--work DIR] [--qm PATH] [--level N]
#                                  [--borg-compression SPEC] [--journal delete|wal] [--keep]
#   --size  size of the generated data directory (default 1G; 200M for a quick run)
#   --work  work directory (default /tmp/qm-bench); the generated data is kept in
#           WORK/gen (reused when WORK/gen.marker names the same size) and copied to
#           WORK/src for each run, because the run mutates WORK/src
#   --qm    qm-snap binary (default <repo>/build/qm-snap)
#   --level zstd level for both qm-snap (init --compression-level) and borg
#           (--compression zstd,N); default 3, qm-snap's default
#   --borg-compression SPEC  borg's --compression instead (lz4: borg's own default)
#   --journal the generated databases' journal mode: delete (rollback, default) or wal
#           (qm-snap then copies through SQLite's backup API; the peers copy files)
#   --keep  keep the repositories in WORK/repo-* afterwards
#
# Phases, per tool: (1) initial backup into a fresh repository, (2) backup with nothing
# changed, then one `qm_workload.py mutate --seed 2` (one simulated hour of trading) on
# WORK/src, (3) backup after that hour, (4) restore of the latest snapshot into a fresh
# directory (deleted afterwards). Each is timed with /usr/bin/time; "added" is the
# growth of `du -sb` of the repository. Before each timed command the script runs `sync`,
# so no tool pays for writing back another's data. A tool command that fails is shown as FAIL and
# the run goes on; the script then exits 1.
# Results: stdout and WORK/results.md; tool output in WORK/logs/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
size=1G
work=/tmp/qm-bench
qm="$root/build/qm-snap"
level=3
borg_compression=
journal=delete
keep=0
cmdline="bash $0 $*"

die() { echo "e2e_compare: error: $*" >&2; exit 1; }
note() { echo "== $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --size) [ $# -ge 2 ] || die "--size needs a value"; size=$2; shift 2 ;;
    --work) [ $# -ge 2 ] || die "--work needs a value"; work=$2; shift 2 ;;
    --qm)   [ $# -ge 2 ] || die "--qm needs a value"; qm=$2; shift 2 ;;
    --level) [ $# -ge 2 ] || die "--level needs a value"; level=$2; shift 2 ;;
    --borg-compression) [ $# -ge 2 ] || die "--borg-compression needs a value"; borg_compression=$2; shift 2 ;;
    --journal) [ $# -ge 2 ] || die "--journal needs a value"; journal=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

workload="$root/tools/qm_workload.py"
[ -f "$workload" ] || die "workload generator not found: $workload"
[ -x "$qm" ] || die "qm-snap binary not found or not executable: $qm (build it or pass --qm PATH)"
qm=$(cd "$(dirname "$qm")" && pwd)/$(basename "$qm")
command -v python3 >/dev/null || die "python3 is required"
mkdir -p "$work" || die "cannot create work directory $work"
work=$(cd "$work" && pwd)

# ---- tools -------------------------------------------------------------------------
. "$root/bench/common.sh"
ensure_peer_tools

export RESTIC_PASSWORD=x
export RESTIC_CACHE_DIR="$work/cache-restic"
export BORG_BASE_DIR="$work/cache-borg"
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes

src="$work/src"
logs="$work/logs"
tools=(qm-snap restic borg)
phases=(1 2 3 4)
declare -A phase_name=([1]="initial backup" [2]="unchanged backup" [3]="hourly backup (after 1 h)" [4]="full restore")
declare -A WALL CPU RSS ADDED
failures=0

cleanup_repos() {
  rm -rf "$work"/repo-qm-snap "$work"/repo-restic "$work"/repo-borg "$work"/restore-* \
         "$RESTIC_CACHE_DIR" "$BORG_BASE_DIR"
}
cleanup_repos
rm -rf "$logs" "$work/pre"; mkdir -p "$logs" "$work/pre"

# ---- data ----------------------------------------------------------------------------
ensure_generated_set "$root" "$work" "$size" "$journal"
rm -rf "$src"
cp -a "$work/gen" "$src" || die "cannot copy $work/gen to $src"
src_bytes=$(du -sb "$src" | cut -f1)
src_files=$(find "$src" -type f | wc -l)

# ---- measurement -----------------------------------------------------------------------
repo_of() { echo "$work/repo-$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# measure TOOL PHASE CMD...: run CMD under /usr/bin/time, record wall/cpu/rss/added.
measure() {
  local tool=$1 phase=$2; shift 2
  local repo; repo=$(repo_of "$tool")
  local tf="$logs/$tool-phase$phase.time" out="$logs/$tool-phase$phase.out" err="$logs/$tool-phase$phase.err"
  local before after rc=0
  before=$(du -sb "$repo" 2>/dev/null | cut -f1 || echo 0)
  note "$tool: phase $phase (${phase_name[$phase]})"
  # Each timed run starts with nothing dirty: otherwise the previous tool's
  # writes (a repository, a restored tree) are written back during, and
  # billed to, the next one's run. The page cache stays warm.
  sync
  /usr/bin/time -o "$tf" -f '%e %U %S %M' "$@" >"$out" 2>"$err" || rc=$?
  after=$(du -sb "$repo" 2>/dev/null | cut -f1 || echo 0)
  if [ "$rc" != 0 ]; then
    echo "e2e_compare: $tool phase $phase FAILED (exit $rc): $*" >&2
    tail -n 5 "$err" | sed 's/^/    /' >&2
    WALL[$tool,$phase]=FAIL; CPU[$tool,$phase]=FAIL; RSS[$tool,$phase]=FAIL; ADDED[$tool,$phase]=FAIL
    failures=$((failures + 1))
    return 0
  fi
  # the last line of the -o file is the format line (earlier ones may be "Command exited...")
  read -r w u s m < <(tail -n 1 "$tf")
  WALL[$tool,$phase]=$w
  CPU[$tool,$phase]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  RSS[$tool,$phase]=$(awk -v m="$m" 'BEGIN { printf "%.0f", m / 1024 }')
  ADDED[$tool,$phase]=$(mib $((after - before)))
}

init_repo() {
  local tool=$1 repo; repo=$(repo_of "$1")
  case $tool in
    qm-snap) "$qm" init --compression-level "$level" --repo "$repo" ;;
    restic)  restic init --repo "$repo" ;;
    borg)    borg init --encryption=none "$repo" ;;
  esac >"$logs/$tool-init.out" 2>&1 || { cat "$logs/$tool-init.out" >&2; die "$tool init failed"; }
}

backup() {   # backup TOOL PHASE
  local tool=$1 phase=$2 repo; repo=$(repo_of "$1")
  case $tool in
    qm-snap) measure "$tool" "$phase" "$qm" backup --repo "$repo" --source "$src" --json ;;
    restic)  measure "$tool" "$phase" restic -r "$repo" backup "$src" --host bench -q ;;
    borg)    measure "$tool" "$phase" borg create --compression "${borg_compression:-zstd,$level}" "$repo::snap-$phase" "$src" ;;
  esac
}

restore() {  # restore TOOL: phase 4
  local tool=$1 repo t; repo=$(repo_of "$1"); t="$work/restore-$tool"
  rm -rf "$t"; mkdir -p "$t"
  case $tool in
    qm-snap) measure "$tool" 4 "$qm" restore latest --repo "$repo" --target "$t" ;;
    restic)  measure "$tool" 4 restic -r "$repo" restore latest --target "$t" ;;
    borg)    measure "$tool" 4 bash -c 'cd "$1" && borg extract "$2"' _ "$t" "$repo::snap-3" ;;
  esac
  restored_bytes[$tool]=$(du -sb "$t" | cut -f1)
  restored_files[$tool]=$(find "$t" -type f | wc -l)
  ADDED[$tool,4]="-"
  rm -rf "$t"
}
declare -A restored_bytes restored_files

# ---- run -------------------------------------------------------------------------------
for t in "${tools[@]}"; do
  init_repo "$t"
  backup "$t" 1
  backup "$t" 2
done

# copies of the databases before the hour, for page-diff
cp "$src/data/quantmesh.db" "$work/pre/quantmesh.db"
cp "$src/logs.db" "$work/pre/logs.db"

# physical floor: read every file (warm cache: second pass timed), and sha256sum of every file
note "floor: cat and sha256sum of $src"
find "$src" -type f -exec cat {} + >/dev/null
/usr/bin/time -o "$logs/floor-cat.time" -f '%e %U %S %M' \
  bash -c 'find "$1" -type f -exec cat {} + >/dev/null' _ "$src"
/usr/bin/time -o "$logs/floor-sha.time" -f '%e %U %S %M' \
  bash -c 'find "$1" -type f -exec sha256sum {} + >/dev/null' _ "$src"
read -r cat_w cat_u cat_s _ < <(tail -n 1 "$logs/floor-cat.time")
read -r sha_w sha_u sha_s _ < <(tail -n 1 "$logs/floor-sha.time")

note "mutate: one simulated hour of trading (--seed 2)"
python3 "$workload" mutate "$src" --seed 2 >"$logs/mutate.out" 2>&1 \
  || { cat "$logs/mutate.out" >&2; die "qm_workload.py mutate failed"; }

pagediff() {  # pagediff NAME PRE NOW VAR: sets VAR to one markdown line; adds to changed_zstd
  local j z line; j=$(python3 "$workload" page-diff "$2" "$3" --dump-changed "$work/changed.pages") \
    || die "page-diff of $1 failed"
  z=$(zstd -3 -q -c "$work/changed.pages" | wc -c)
  changed_zstd=$((changed_zstd + z))
  rm -f "$work/changed.pages"
  line=$(python3 -c '
import json, sys
d = json.loads(sys.argv[2])
b = d["changed"] * d["page_size"]
print("- %s: %d of %d pages changed (%d before), page size %d: %d bytes = %.1f MiB, %.1f MiB with zstd -3"
      % (sys.argv[1], d["changed"], d["pages_b"], d["pages_a"], d["page_size"], b, b / 1048576, int(sys.argv[3]) / 1048576))
' "$1" "$j" "$z")
  printf -v "$4" '%s' "$line"
}
changed_zstd=0
pagediff data/quantmesh.db "$work/pre/quantmesh.db" "$src/data/quantmesh.db" pd_main
pagediff logs.db "$work/pre/logs.db" "$src/logs.db" pd_logs

for t in "${tools[@]}"; do backup "$t" 3; done
for t in "${tools[@]}"; do restore "$t"; done

# ---- report ----------------------------------------------------------------------------
ratio() {  # ratio A B
  case "$1$2" in *FAIL*|*-*) echo "n/a"; return ;; esac
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
rate() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f MiB/s", b / 1048576 / s; else print "n/a" }'; }
qm_ver=$("$qm" --version 2>&1 | head -n1)
restic_ver=$(restic version 2>&1 | head -n1)
borg_ver=$(borg --version 2>&1 | head -n1)

{
  echo "# qm-snap vs restic vs borg, end to end"
  echo
  echo "Data: $size generated QuantMesh directory, $src_files files, $src_bytes bytes ($(mib "$src_bytes") MiB), databases in journal mode $journal. Warm page cache."
  echo
  echo "| phase | tool | wall s | user+sys CPU s | peak RSS MiB | added to repo MiB |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  for p in "${phases[@]}"; do
    for t in "${tools[@]}"; do
      echo "| $p ${phase_name[$p]} | $t | ${WALL[$t,$p]} | ${CPU[$t,$p]} | ${RSS[$t,$p]} | ${ADDED[$t,$p]} |"
    done
  done
  echo
  echo "Wall-time ratios (below 1: qm-snap faster)"
  echo
  echo "| phase | qm-snap/restic | qm-snap/borg |"
  echo "| --- | ---: | ---: |"
  for p in "${phases[@]}"; do
    echo "| $p ${phase_name[$p]} | $(ratio "${WALL[qm-snap,$p]}" "${WALL[restic,$p]}") | $(ratio "${WALL[qm-snap,$p]}" "${WALL[borg,$p]}") |"
  done
  echo
  echo "Restored (phase 4): $(for t in "${tools[@]}"; do printf '%s %s files %s MiB. ' "$t" "${restored_files[$t]:-?}" "$(mib "${restored_bytes[$t]:-0}")"; done)"
  echo
  echo "Physical floor (before the hour, warm cache, all $src_files files):"
  echo "- cat to /dev/null (second pass): ${cat_w} s wall, $(awk -v u="$cat_u" -v s="$cat_s" 'BEGIN{printf "%.2f", u+s}') s CPU, $(rate "$src_bytes" "$cat_w")"
  echo "- sha256sum: ${sha_w} s wall, $(awk -v u="$sha_u" -v s="$sha_s" 'BEGIN{printf "%.2f", u+s}') s CPU, $(rate "$src_bytes" "$sha_w")"
  echo
  echo "Changed by one simulated hour (mutate --seed 2; $(head -n1 "$logs/mutate.out")):"
  echo "$pd_main"
  echo "$pd_logs"
  echo "- changed pages of both, zstd -3: $(mib "$changed_zstd") MiB"
  echo
  echo "Issue #3 targets on this run:"
  qm_added3=$(awk -v m="${ADDED[qm-snap,3]}" 'BEGIN { print m * 1048576 }')
  echo "- hourly bytes added / zstd size of changed pages: $(ratio "$qm_added3" "$changed_zstd") (target <= 1.5)"
  echo "- hourly wall / restic: $(ratio "${WALL[qm-snap,3]}" "${WALL[restic,3]}"), / borg: $(ratio "${WALL[qm-snap,3]}" "${WALL[borg,3]}") (target <= 0.25 each)"
  echo "- unchanged wall: ${WALL[qm-snap,2]} s; / faster peer: $(ratio "${WALL[qm-snap,2]}" "$(awk -v a="${WALL[restic,2]}" -v b="${WALL[borg,2]}" 'BEGIN { print (a < b ? a : b) }')") (target <= 0.10)"
  echo "- peak RSS of qm-snap over all phases: $(for p in "${phases[@]}"; do echo "${RSS[qm-snap,$p]}"; done | sort -n | tail -n1) MiB (target < 256)"
  echo
  echo "Notes:"
  echo "- qm-snap: \`qm-snap backup --repo R --source SRC --json\` takes its default set (the 4 databases, config.yaml, config_backups/, logs/ of the last 7 days); restic and borg take all of SRC, so they read a few more log files."
  echo "- restic: encryption is mandatory (RESTIC_PASSWORD=x); compression is the repository-v2 default \`auto\`."
  if [ -z "$borg_compression" ]; then
    echo "- qm-snap: \`init --compression-level $level\`; borg: \`--encryption=none\`, \`--compression zstd,$level\`, the same zstd level (borg's default is lz4)."
  else
    echo "- qm-snap: \`init --compression-level $level\`; borg: \`--encryption=none\`, \`--compression $borg_compression\`."
  fi
  echo "- Bytes added = growth of \`du -sb\` of the repository. Caches: restic and borg caches live in WORK and are kept between phases."
  echo "- Tool commands' output is in $logs."
  [ "$failures" = 0 ] || echo "- **$failures tool command(s) FAILED**; see the .err files in $logs."
  echo
  echo "Run: \`$cmdline\`"
  echo "Date: $(date -Iseconds); nproc: $(nproc); $(uname -sr)"
  echo "Versions: $qm_ver ($qm); $restic_ver; $borg_ver"
} | tee "$work/results.md"

if [ "$keep" = 1 ]; then
  note "repositories kept in $work/repo-*"
else
  cleanup_repos
fi
rm -rf "$work/pre"
[ "$failures" = 0 ] || die "$failures tool command(s) failed (results in $work/results.md)"
