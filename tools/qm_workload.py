#!/usr/bin/env python3
"""QuantMesh-shaped workload for qm-snap's tests, demo and benchmarks (stdlib only).

Subcommands
  generate DIR --size SIZE --seed N [--page-size B] [--journal delete|wal] [--leave-wal]
                [--now 2025-01-29T14:00:00]
      Makes a QuantMesh data directory of about SIZE bytes (6M, 60M, 1G), the same bytes
      for the same arguments: data/quantmesh.db (trades, orders, statistics, with indexes;
      ~85%), data/auth.db, data/webauthn.db, logs.db (~10%), config.yaml (fake exchange
      keys), config_backups/config_YYYYMMDD_HHMMSS.yaml, and logs/quantmesh-YYYY-MM-DD.log
      for the 10 days up to --now, each with the mtime of the end of its day (the file of
      --now's day: --now; databases and config.yaml: --now). DIR must be new or empty.
      --journal wal puts every database in WAL mode (closed cleanly, no -wal left);
      --leave-wal also exits without closing logs.db, leaving rows only in logs.db-wal.
  mutate DIR --seed N [--hours H] [--touch-config]
      Simulates H hours of trading after the newest trade: new trades and orders, updated
      open orders, upserted daily statistics, log rows appended and expired (30 days),
      lines appended to the newest text log (the next day's file is started when the hours
      cross midnight). --touch-config copies config.yaml to config_backups/ and changes one
      value in it. auth.db and webauthn.db are left alone. Deterministic from the seed and
      the existing content; works on WAL databases.
  verify DIR
      PRAGMA integrity_check on each database present, plus row counts. Exit 1 if any fails.
  compare A B
      Exit 0 when the regular files under A and B are the same set with the same bytes.
  page-diff A.db B.db [--page-size N] [--dump-changed FILE]
      JSON: pages of each file and how many pages differ. The page size comes from the
      SQLite header of A (bytes 16-17, 1 meaning 65536) unless given. --dump-changed
      writes B's changed pages, back to back, to FILE (to measure their compressed size).

Bad arguments exit 2 with usage. Timestamps are naive local time; files are byte-identical
for the same seed, size and --now (on the same SQLite version and time zone).
"""
import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import urllib.request

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT", "AVAXUSDT"]
STRATEGIES = ["grid", "mm", "trend", "arb"]
BASE_PRICE = {"BTCUSDT": 97000.0, "ETHUSDT": 3300.0, "SOLUSDT": 240.0, "BNBUSDT": 680.0,
              "XRPUSDT": 3.1, "DOGEUSDT": 0.33, "ADAUSDT": 0.95, "AVAXUSDT": 36.0}
DBS = ["data/quantmesh.db", "data/auth.db", "data/webauthn.db", "logs.db"]
LEVELS = ["INFO"] * 8 + ["WARN", "ERROR", "DEBUG"]
COMPONENTS = ["engine", "exchange", "risk", "ws", "api", "strategy"]


def die(msg, code=1):
    print("qm_workload: " + msg, file=sys.stderr)
    sys.exit(code)


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    s = s.strip().upper().rstrip("B")
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def ms(t):
    return int(t.timestamp() * 1000)


def hexs(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def connect(path, page_size=None, journal=None, fast=False):
    con = sqlite3.connect(path, isolation_level=None)
    if page_size:
        con.execute("PRAGMA page_size=%d" % page_size)
    if journal:
        con.execute("PRAGMA journal_mode=%s" % journal)
    # fast: generation only, no fsync (the file bytes are the same either way)
    con.execute("PRAGMA synchronous=%s" % ("OFF" if fast else "NORMAL"))
    con.execute("PRAGMA cache_size=-65536")
    return con


def trade_row(rng, tid, ts, order_id):
    sym = rng.choice(SYMBOLS)
    price = round(BASE_PRICE[sym] * (1 + rng.uniform(-0.02, 0.02)), 4)
    qty = round(rng.uniform(0.001, 2.0), 6)
    return (tid, sym, rng.choice(["buy", "sell"]), price, qty, round(price * qty * 0.0004, 8),
            order_id, ts, rng.choice(STRATEGIES))


def order_row(rng, oid, ts, status=None, cap=None):
    sym = rng.choice(SYMBOLS)
    price = round(BASE_PRICE[sym] * (1 + rng.uniform(-0.03, 0.03)), 4)
    qty = round(rng.uniform(0.001, 2.0), 6)
    status = status or rng.choice(["filled"] * 6 + ["canceled"] * 2 + ["open"])
    filled = qty if status == "filled" else (0.0 if status == "open" else round(qty * rng.random(), 6))
    return (oid, "qm-%s" % hexs(rng, 16), sym, rng.choice(["buy", "sell"]), rng.choice(["limit", "market"]),
            price, qty, filled, status, ts, min(ts + rng.randint(0, 60000), cap or 1 << 62))


SCHEMA_MAIN = """
CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, side TEXT NOT NULL, price REAL,
  qty REAL, fee REAL, order_id INTEGER, ts INTEGER NOT NULL, strategy TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, client_order_id TEXT, symbol TEXT, side TEXT, type TEXT,
  price REAL, qty REAL, filled REAL, status TEXT, created_at INTEGER, updated_at INTEGER);
CREATE TABLE statistics (day TEXT, symbol TEXT, trades INTEGER, volume REAL, fees REAL, pnl REAL,
  PRIMARY KEY (day, symbol));
CREATE INDEX trades_symbol_ts ON trades(symbol, ts);
CREATE INDEX trades_order ON trades(order_id);
CREATE INDEX orders_status_updated ON orders(status, updated_at);
CREATE INDEX orders_client ON orders(client_order_id);
"""


def upsert_stats(con, rng, day):
    for sym in SYMBOLS:
        con.execute("INSERT INTO statistics VALUES (?,?,?,?,?,?) ON CONFLICT(day, symbol) DO UPDATE SET "
                    "trades=trades+excluded.trades, volume=volume+excluded.volume, fees=fees+excluded.fees, "
                    "pnl=pnl+excluded.pnl",
                    (day, sym, rng.randint(10, 500), round(rng.uniform(1e3, 1e6), 2),
                     round(rng.uniform(1, 500), 4), round(rng.uniform(-5000, 5000), 2)))


def log_line(rng, t):
    return "%s %s [%s] %s\n" % (t.strftime("%Y-%m-%d %H:%M:%S"), rng.choice(LEVELS), rng.choice(COMPONENTS),
                                rng.choice(["order placed", "order filled", "ws heartbeat", "risk check passed",
                                            "position updated", "reconnect", "funding rate"]) +
                                " id=%d px=%.2f" % (rng.randint(1, 10**9), rng.uniform(0, 1e5)))


def fill_main(con, rng, target, start, end):
    # Orders arrive in time order (ids ascend with ts, as in a live system): the mean gap
    # between orders is re-estimated after every batch from the bytes used so far, so the
    # last orders land near `end` when the file reaches `target`.
    t, t_end = ms(start), ms(end)
    tid = oid = 0
    batch = 1000
    gap = (t_end - t) / max(1, target // 210)
    while True:
        con.execute("BEGIN")
        rows_o, rows_t = [], []
        for _ in range(batch):
            oid += 1
            t = min(t + int(rng.expovariate(1.0) * gap), t_end)
            rows_o.append(order_row(rng, oid, t, cap=t_end))
            if rows_o[-1][8] == "filled":
                tid += 1
                rows_t.append(trade_row(rng, tid, min(t + rng.randint(0, 2000), t_end), oid))
        con.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows_o)
        con.executemany("INSERT INTO trades VALUES (?,?,?,?,?,?,?,?,?)", rows_t)
        con.execute("COMMIT")
        (pc,) = con.execute("PRAGMA page_count").fetchone()
        (ps,) = con.execute("PRAGMA page_size").fetchone()
        if pc * ps >= target:
            break
        left = (target - pc * ps) / (pc * ps / oid)  # orders still to come
        gap = max(0.0, (t_end - t) / max(1.0, left))
    con.execute("BEGIN")
    d = start.date()
    while d <= end.date():
        upsert_stats(con, rng, d.isoformat())
        d += dt.timedelta(days=1)
    con.execute("COMMIT")


def fill_logs(con, rng, target, start, end):
    t, t_end = ms(start), ms(end)
    lid = 0
    gap = (t_end - t) / max(1, target // 75)
    while True:
        con.execute("BEGIN")
        rows = []
        for _ in range(1000):
            lid += 1
            t = min(t + int(rng.expovariate(1.0) * gap), t_end)
            parts = log_line(rng, dt.datetime.fromtimestamp(t / 1000)).split(" ", 4)
            rows.append((lid, t, parts[2], parts[3].strip("[]"), parts[4].strip()))
        con.executemany("INSERT INTO logs VALUES (?,?,?,?,?)", rows)
        con.execute("COMMIT")
        (pc,) = con.execute("PRAGMA page_count").fetchone()
        (ps,) = con.execute("PRAGMA page_size").fetchone()
        if pc * ps >= target:
            break
        left = (target - pc * ps) / (pc * ps / lid)
        gap = max(0.0, (t_end - t) / max(1.0, left))


def config_text(rng, variant):
    return ("# QuantMesh configuration\napp:\n  env: production\n  version: 3.%d.0\n"
            "exchanges:\n  binance:\n    api_key: \"%s\"\n    secret_key: \"%s\"\n"
            "  okx:\n    api_key: \"%s\"\n    secret_key: \"%s\"\n    passphrase: \"%s\"\n"
            "trading:\n  pairs: [%s]\n  max_position_usdt: %d\n  grid_levels: %d\n"
            "database:\n  path: ./data/quantmesh.db\nlogging:\n  dir: ./logs\n  retention_days: 30\n"
            % (variant, hexs(rng, 64), hexs(rng, 64), hexs(rng, 32), hexs(rng, 32), hexs(rng, 12),
               ", ".join(SYMBOLS[:3 + variant % 5]), 10000 + 1000 * variant, 10 + variant))


def cmd_generate(a):
    size = parse_size(a.size)
    now = dt.datetime.fromisoformat(a.now)
    if os.path.exists(a.dir) and os.listdir(a.dir):
        die("%s exists and is not empty" % a.dir)
    rng = random.Random(a.seed)
    for sub in ["data", "config_backups", "logs"]:
        os.makedirs(os.path.join(a.dir, sub), exist_ok=True)
    start = now - dt.timedelta(days=90)
    journal = a.journal
    main_path = os.path.join(a.dir, "data/quantmesh.db")
    con = connect(main_path, a.page_size, journal, fast=True)
    con.executescript(SCHEMA_MAIN)
    fill_main(con, rng, int(size * 0.85), start, now)
    con.close()

    con = connect(os.path.join(a.dir, "data/auth.db"), a.page_size, journal, fast=True)
    con.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password_hash TEXT, "
                      "role TEXT, created_at INTEGER);"
                      "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id INTEGER, expires_at INTEGER);")
    con.execute("BEGIN")
    for i in range(1, 201):
        con.execute("INSERT INTO users VALUES (?,?,?,?,?)",
                    (i, "user%03d" % i, "$2b$12$" + hexs(rng, 53), rng.choice(["admin", "trader", "viewer"]),
                     ms(start) + rng.randint(0, 10**9)))
    for i in range(max(200, min(size // 20000, 3000))):
        con.execute("INSERT INTO sessions VALUES (?,?,?)", (hexs(rng, 64), rng.randint(1, 200),
                                                             ms(now) + rng.randint(0, 10**9)))
    con.execute("COMMIT")
    con.close()

    con = connect(os.path.join(a.dir, "data/webauthn.db"), a.page_size, journal, fast=True)
    con.executescript("CREATE TABLE credentials (id INTEGER PRIMARY KEY, user_id INTEGER, credential_id BLOB, "
                      "public_key BLOB, sign_count INTEGER, created_at INTEGER);")
    con.execute("BEGIN")
    for i in range(1, 61):
        con.execute("INSERT INTO credentials VALUES (?,?,?,?,?,?)",
                    (i, rng.randint(1, 200), rng.randbytes(32), rng.randbytes(77), rng.randint(0, 500),
                     ms(start) + rng.randint(0, 10**9)))
    con.execute("COMMIT")
    con.close()

    con = connect(os.path.join(a.dir, "logs.db"), a.page_size, journal, fast=True)
    con.executescript("CREATE TABLE logs (id INTEGER PRIMARY KEY, ts INTEGER, level TEXT, component TEXT, "
                      "message TEXT); CREATE INDEX logs_ts ON logs(ts);")
    fill_logs(con, rng, int(size * 0.10), now - dt.timedelta(days=30), now)
    if a.leave_wal:  # the fill goes into logs.db itself; only the rows below stay in logs.db-wal
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA wal_autocheckpoint=0")
        con.execute("BEGIN")
        con.executemany("INSERT INTO logs(ts, level, component, message) VALUES (?,?,?,?)",
                        [(ms(now), "INFO", "engine", "only in the wal %d" % i) for i in range(500)])
        con.execute("COMMIT")
    else:
        con.close()

    for v in range(5):
        t = now - dt.timedelta(days=5 * (5 - v), hours=v)
        p = os.path.join(a.dir, "config_backups", "config_%s.yaml" % t.strftime("%Y%m%d_%H%M%S"))
        with open(p, "w") as f:
            f.write(config_text(rng, v))
        os.utime(p, (t.timestamp(), t.timestamp()))
    with open(os.path.join(a.dir, "config.yaml"), "w") as f:
        f.write(config_text(rng, 5))

    per_day = max(20000, min(size // 1000, 200000))
    for back in range(9, -1, -1):
        day = (now - dt.timedelta(days=back)).date()
        p = os.path.join(a.dir, "logs", "quantmesh-%s.log" % day.isoformat())
        t0 = dt.datetime.combine(day, dt.time())
        end = now if back == 0 else t0 + dt.timedelta(hours=23, minutes=59, seconds=59)
        with open(p, "w") as f:
            n, secs = 0, int((end - t0).total_seconds())
            lines = []
            while n < per_day:
                ln = log_line(rng, t0 + dt.timedelta(seconds=rng.randint(0, secs)))
                lines.append(ln)
                n += len(ln)
            lines.sort()
            f.write("".join(lines))
        os.utime(p, (end.timestamp(), end.timestamp()))
    for rel in DBS + ["config.yaml"]:
        p = os.path.join(a.dir, rel)
        os.utime(p, (now.timestamp(), now.timestamp()))
    total = files = 0
    for root, _, names in os.walk(a.dir):
        for n in names:
            files += 1
            total += os.path.getsize(os.path.join(root, n))
    print("generated %s: %d files, %d bytes" % (a.dir, files, total))
    sys.stdout.flush()
    if a.leave_wal:
        os._exit(0)  # exit without closing: logs.db keeps its -wal file


def cmd_mutate(a):
    rng = random.Random(a.seed)
    main_path = os.path.join(a.dir, "data/quantmesh.db")
    if not os.path.exists(main_path):
        die("%s: no data/quantmesh.db" % a.dir)
    con = connect(main_path)
    (last_ts,) = con.execute("SELECT COALESCE(MAX(ts), 0) FROM trades").fetchone()
    (max_t,) = con.execute("SELECT COALESCE(MAX(id), 0) FROM trades").fetchone()
    (max_o,) = con.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()
    t = dt.datetime.fromtimestamp(last_ts // 1000)
    trades = orders = updates = 0
    for _ in range(a.hours):
        con.execute("BEGIN")
        for ts in sorted(ms(t) + rng.randint(0, 3600 * 1000) for _ in range(3000)):  # ids ascend with time
            max_o += 1
            row = order_row(rng, max_o, ts)
            con.execute("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
            orders += 1
            if row[8] == "filled" and trades < 2000 * a.hours:
                max_t += 1
                con.execute("INSERT INTO trades VALUES (?,?,?,?,?,?,?,?,?)", trade_row(rng, max_t, ts, max_o))
                trades += 1
        open_ids = [r[0] for r in con.execute(
            "SELECT id FROM orders WHERE status='open' ORDER BY updated_at DESC LIMIT 2000")]
        for oid in rng.sample(open_ids, min(500, len(open_ids))):
            st = rng.choice(["filled", "filled", "partially_filled", "canceled"])
            con.execute("UPDATE orders SET status=?, filled=CASE ? WHEN 'filled' THEN qty "
                        "WHEN 'partially_filled' THEN round(qty * ?, 6) ELSE filled END, updated_at=? WHERE id=?",
                        (st, st, rng.uniform(0.1, 0.9), ms(t) + rng.randint(0, 3600 * 1000), oid))
            updates += 1
        upsert_stats(con, rng, t.date().isoformat())
        con.execute("COMMIT")
        t += dt.timedelta(hours=1)
    con.close()

    logs_path = os.path.join(a.dir, "logs.db")
    expired = 0
    if os.path.exists(logs_path):
        con = connect(logs_path)
        con.execute("BEGIN")
        t0 = t - dt.timedelta(hours=a.hours)
        con.executemany("INSERT INTO logs(ts, level, component, message) VALUES (?,?,?,?)",
                        [(ms(t0) + rng.randint(0, a.hours * 3600 * 1000), rng.choice(LEVELS),
                          rng.choice(COMPONENTS), log_line(rng, t0).split(" ", 4)[4].strip())
                         for _ in range(5000 * a.hours)])
        cur = con.execute("DELETE FROM logs WHERE ts < ?", (ms(t - dt.timedelta(days=30)),))
        expired = cur.rowcount
        con.execute("COMMIT")
        con.close()

    logdir = os.path.join(a.dir, "logs")
    os.makedirs(logdir, exist_ok=True)
    t0 = t - dt.timedelta(hours=a.hours)
    by_day = {}
    for h in range(a.hours):
        n = 0
        while n < 50000:
            ln = log_line(rng, t0 + dt.timedelta(hours=h, seconds=rng.randint(0, 3599)))
            by_day.setdefault(ln[:10], []).append(ln)
            n += len(ln)
    for day in sorted(by_day):  # appends to the newest file; crossing midnight starts the next day's
        with open(os.path.join(logdir, "quantmesh-%s.log" % day), "a") as f:
            f.write("".join(sorted(by_day[day])))
    if a.touch_config:  # like QuantMesh: back up the current config, then save it with one value changed
        cfg = os.path.join(a.dir, "config.yaml")
        old = open(cfg).read() if os.path.exists(cfg) else config_text(rng, 5)
        os.makedirs(os.path.join(a.dir, "config_backups"), exist_ok=True)
        p = os.path.join(a.dir, "config_backups", "config_%s.yaml" % t.strftime("%Y%m%d_%H%M%S"))
        with open(p, "w") as f:
            f.write(old)
        lines = old.split("\n")
        for i, ln in enumerate(lines):
            if ln.strip().startswith("max_position_usdt:"):
                lines[i] = "  max_position_usdt: %d" % rng.randint(1000, 99000)
                break
        else:
            lines.insert(len(lines) - 1, "# touched %s" % hexs(rng, 8))
        with open(cfg, "w") as f:
            f.write("\n".join(lines))
    print("mutated %s: %d hour(s) to %s, %d trades, %d orders, %d order updates, %d log rows added, "
          "%d log rows expired, text log days %s%s"
          % (a.dir, a.hours, t.isoformat(), trades, orders, updates, 5000 * a.hours, expired,
             ",".join(sorted(by_day)), ", config.yaml touched" if a.touch_config else ""))


def cmd_verify(a):
    ok, found = True, 0
    counts = {"data/quantmesh.db": "trades", "data/auth.db": "users", "data/webauthn.db": "credentials",
              "logs.db": "logs"}
    for rel in DBS:
        p = os.path.join(a.dir, rel)
        if not os.path.exists(p):
            continue
        # Read-only, so verify never checkpoints or changes a file. On a WAL database a
        # read-only connection leaves empty -wal/-shm files behind: remove the ones it made.
        pre = {x for x in ("-wal", "-shm") if os.path.exists(p + x)}
        try:
            con = sqlite3.connect("file:%s?mode=ro" % urllib.request.pathname2url(os.path.abspath(p)), uri=True)
            res = [r[0] for r in con.execute("PRAGMA integrity_check")]
            n = con.execute("SELECT COUNT(*) FROM %s" % counts[rel]).fetchone()[0]
            con.close()
        except sqlite3.Error as e:
            res, n = [str(e)], 0
        if "-wal" not in pre and os.path.exists(p + "-wal") and os.path.getsize(p + "-wal") == 0:
            for x in ("-wal", "-shm"):
                if x not in pre and os.path.exists(p + x):
                    os.remove(p + x)
        found += 1
        if res == ["ok"] and n == 0:
            res = ["table %s is empty" % counts[rel]]
        if res != ["ok"]:
            ok = False
            print("FAIL %s: %s" % (rel, "; ".join(res[:3])))
        else:
            print("ok %s: %d %s" % (rel, n, counts[rel]))
    if found == 0:
        ok = False
        print("FAIL no database found under %s" % a.dir)
    if not os.path.exists(os.path.join(a.dir, "config.yaml")):
        ok = False
        print("FAIL config.yaml missing")
    if not ok:
        die("verification failed for %s" % a.dir)


def files_under(d):
    out = {}
    for root, _, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                out[os.path.relpath(p, d)] = p
    return out


def cmd_compare(a):
    fa, fb = files_under(a.a), files_under(a.b)
    diff = sorted(set(fa) ^ set(fb))
    for rel in sorted(set(fa) & set(fb)):
        if os.path.getsize(fa[rel]) != os.path.getsize(fb[rel]):
            diff.append(rel)
            continue
        with open(fa[rel], "rb") as x, open(fb[rel], "rb") as y:
            while True:
                bx, by = x.read(1 << 20), y.read(1 << 20)
                if bx != by:
                    diff.append(rel)
                    break
                if not bx:
                    break
    for rel in sorted(diff):
        print("differs: " + rel)
    sys.exit(1 if diff else 0)


def page_size_of(path):
    with open(path, "rb") as f:
        h = f.read(100)
    if len(h) < 100 or not h.startswith(b"SQLite format 3\0"):
        die("%s is not a SQLite database" % path)
    ps = int.from_bytes(h[16:18], "big")
    return 65536 if ps == 1 else ps


def cmd_page_diff(a):
    ps = a.page_size or page_size_of(a.a)
    if ps < 512 or ps & (ps - 1):
        die("bad page size %d" % ps, 2)
    pa = (os.path.getsize(a.a) + ps - 1) // ps
    pb = (os.path.getsize(a.b) + ps - 1) // ps
    changed = 0
    dump = open(a.dump_changed, "wb") if a.dump_changed else None
    with open(a.a, "rb") as x, open(a.b, "rb") as y:
        for _ in range(max(pa, pb)):
            pb_page = y.read(ps)
            if x.read(ps) != pb_page:
                changed += 1
                if dump and pb_page:
                    dump.write(pb_page)
    if dump:
        dump.close()
    print(json.dumps({"page_size": ps, "pages_a": pa, "pages_b": pb, "changed": changed,
                      "changed_fraction": round(changed / max(1, pb), 6)}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("dir")
    g.add_argument("--size", default="60M")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--page-size", type=int, default=4096)
    g.add_argument("--journal", choices=["delete", "wal"], default="delete")
    g.add_argument("--leave-wal", action="store_true")
    g.add_argument("--now", default="2025-01-29T14:00:00")
    m = sub.add_parser("mutate")
    m.add_argument("dir")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--hours", type=int, default=1)
    m.add_argument("--touch-config", action="store_true")
    v = sub.add_parser("verify")
    v.add_argument("dir")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    d = sub.add_parser("page-diff")
    d.add_argument("a")
    d.add_argument("b")
    d.add_argument("--page-size", type=int, default=0)
    d.add_argument("--dump-changed", default="")
    a = p.parse_args()
    if a.cmd == "generate":
        if a.leave_wal and a.journal != "wal":
            p.error("--leave-wal needs --journal wal")
        try:
            if parse_size(a.size) <= 0:
                raise ValueError
        except ValueError:
            p.error("bad --size %r (want e.g. 6M, 60M, 1G or bytes)" % a.size)
        try:
            dt.datetime.fromisoformat(a.now)
        except ValueError:
            p.error("bad --now %r (want e.g. 2025-01-29T14:00:00)" % a.now)
        if a.page_size < 512 or a.page_size > 65536 or a.page_size & (a.page_size - 1):
            p.error("--page-size must be a power of two between 512 and 65536")
    if a.cmd == "mutate" and a.hours < 1:
        p.error("--hours must be at least 1")
    {"generate": cmd_generate, "mutate": cmd_mutate, "verify": cmd_verify, "compare": cmd_compare,
     "page-diff": cmd_page_diff}[a.cmd](a)


if __name__ == "__main__":
    main()
