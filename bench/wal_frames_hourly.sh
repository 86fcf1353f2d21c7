#!/bin/bash
# Hourly backups of a WAL-mode quantmesh.db whose recent commits are still in
# its -wal file, as a running QuantMesh leaves it (e2e_compare.sh's WAL
# databases have empty WALs: their writer closed).
#
#   bash bench/wal_frames_hourly.sh --qm BIN [--work DIR] [--size 1G]
#
# Generates WORK/gen once (qm_workload.py, --journal wal), then: copy, init,
# initial backup; a writer commits 40 transactions (75 recent orders updated,
# 50 trades inserted each) with wal_autocheckpoint=0 and keeps its connection
# open, so the frames stay in the -wal; an hourly backup, then one with
# --check-interval 0; a full restore and PRAGMA integrity_check. Prints the
# timings (/usr/bin/time), each capture's read_from, wal_pages_read,
# quick_check and read_hold_ms, and the restored database's check.
set -euo pipefail

QM="" WORK=/tmp/qm-walframes SIZE=1G
while [ $# -gt 0 ]; do
  case "$1" in
    --qm) QM=$(readlink -f "$2"); shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -n "$QM" ] || { echo "usage: $0 --qm BIN [--work DIR] [--size 1G]" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$WORK"
if [ ! -f "$WORK/gen.marker" ]; then
  rm -rf "$WORK/gen"
  python3 "$ROOT/tools/qm_workload.py" generate "$WORK/gen" --size "$SIZE" --seed 1 --journal wal >/dev/null
  touch "$WORK/gen.marker"
fi
RUN="$WORK/run"
rm -rf "$RUN"; mkdir -p "$RUN"
mkdir -p "$RUN/src"
cp -a "$WORK/gen/." "$RUN/src/"
"$QM" init --repo "$RUN/repo" --compression-level 3 >/dev/null
"$QM" backup --repo "$RUN/repo" --source "$RUN/src" --json >"$RUN/initial.json"

READY="$RUN/writer.ready"
python3 - "$RUN/src/data/quantmesh.db" "$READY" <<'PY' &
import os, sqlite3, sys, time
db, ready = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA wal_autocheckpoint=0")
for i in range(40):
    c.execute("BEGIN")
    c.execute("UPDATE orders SET updated_at = updated_at + 1, status = 'FILLED' "
              "WHERE id > (SELECT max(id) FROM orders) - 3000 AND id % 40 = ?", (i,))
    c.executemany("INSERT INTO trades(symbol, side, price, qty, fee, order_id, ts, strategy) "
                  "VALUES ('BTCUSDT', 'BUY', 1, 1, 0, 1, ?, 'grid')", [(j,) for j in range(50)])
    c.execute("COMMIT")
with open(ready, "w") as f:
    f.write(str(os.path.getsize(db + "-wal")))
time.sleep(600)  # keeps the connection open: nothing is checkpointed
PY
WRITER=$!
trap 'kill $WRITER 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -f "$READY" ] && break; sleep 0.2; done
[ -f "$READY" ] || { echo "the writer never finished" >&2; exit 1; }
echo "quantmesh.db-wal: $(cat "$READY") bytes"
/usr/bin/time -f "hourly: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$QM" backup --repo "$RUN/repo" --source "$RUN/src" --json >"$RUN/hourly.json"
/usr/bin/time -f "hourly --check-interval 0: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$QM" backup --repo "$RUN/repo" --source "$RUN/src" --check-interval 0 --json >"$RUN/checked.json"
python3 - "$RUN" <<'PY'
import json, sys
for name in ("hourly", "checked"):
    d = json.load(open("%s/%s.json" % (sys.argv[1], name)))
    for x in d["databases"]:
        if not x["unchanged"]:
            print("%s %s: read_from %s, wal_pages_read %s, quick_check %s, read_hold_ms %.0f" % (
                name, x["path"], x.get("read_from"), x.get("wal_pages_read"), x["quick_check"], x["read_hold_ms"]))
PY
"$QM" restore latest --repo "$RUN/repo" --target "$RUN/out" >/dev/null 2>&1
python3 -c "import sqlite3, sys; print('restored quantmesh.db integrity_check:', sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$RUN/out/data/quantmesh.db"
kill $WRITER 2>/dev/null || true
rm -rf "$RUN"
