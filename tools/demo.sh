#!/usr/bin/env bash
# Quick-start command (1): install what is missing, build, and run the main job on
# a generated QuantMesh-shaped data directory: backup, one simulated hour of
# trading, incremental backup, list, restore the latest, verify it.
# Work happens in ${DEMO_DIR:-./demo}; it is recreated on every run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/install-deps.sh"
bash "$root/tools/build.sh"
qm="$root/build/qm-snap"
demo=${DEMO_DIR:-$root/demo}
rm -rf "$demo"; mkdir -p "$demo"
export QM_SNAP_REPO="$demo/backups/store"
step() { printf '\n== %s\n' "$*"; }

step "generate a QuantMesh data directory (${DEMO_SIZE:-60M})"
python3 "$root/tools/qm_workload.py" generate "$demo/quantmesh" --size "${DEMO_SIZE:-60M}" --seed 1 \
  --now "$(date +%Y-%m-%dT%H:%M:%S)"
step "qm-snap init"
"$qm" init
step "qm-snap backup (first, full)"
"$qm" backup --source "$demo/quantmesh" --tag demo
step "simulate one hour of trading"
python3 "$root/tools/qm_workload.py" mutate "$demo/quantmesh" --seed 2
step "qm-snap backup --dbs-only (hourly incremental)"
"$qm" backup --source "$demo/quantmesh" --dbs-only --tag hourly --json
step "qm-snap backup (full set again; unchanged files are not re-read)"
"$qm" backup --source "$demo/quantmesh"
step "qm-snap snapshots"
"$qm" snapshots
step "qm-snap diff: what the simulated hour changed (pages and table row counts)"
"$qm" diff "$("$qm" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')" latest
step "qm-snap ls latest data --long: each database's tables and row counts, without restoring"
"$qm" ls latest data --long
step "qm-snap restore latest --verify"
"$qm" restore latest --verify --target "$demo/restored"
step "verify: every restored file equals the source, every database passes integrity_check"
(cd "$demo/restored" && find . -type f | sort) | while read -r f; do
  cmp -s "$demo/restored/$f" "$demo/quantmesh/$f" || { echo "MISMATCH: $f"; exit 1; }
done
echo "restored files are byte-identical to the source: $(cd "$demo/restored" && find . -type f | wc -l) files"
python3 "$root/tools/qm_workload.py" verify "$demo/restored"
step "qm-snap check --read-data"
"$qm" check --read-data
step "qm-snap export latest: the guide's offsite archive, checked with sha256sum and tar"
"$qm" export latest --output-dir "$demo/offsite"
(cd "$demo/offsite" && sha256sum -c ./*.sha256 && echo "archive entries: $(tar -tzf ./*.tar.gz | wc -l)")
"$qm" verify "$demo"/offsite/*.tar.gz
step "qm-snap restore ARCHIVE: the bare-machine drill, straight from the offsite archive"
"$qm" restore "$demo"/offsite/*.tar.gz --target "$demo/drill"
python3 "$root/tools/qm_workload.py" verify "$demo/drill"
printf '\ndemo finished: repository at %s\n' "$QM_SNAP_REPO"
