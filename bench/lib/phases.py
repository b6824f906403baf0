"""The order phases' bookkeeping, each printing one JSON figure:

    phases.py commits <pg_base_url> <name> <orders_db> <products_db>
        xact_commit of both databases now (read through the `postgres` database, so reading
        them commits nothing in them)
    phases.py drain <pg_base_url> <orders_db> <name> <start> <end> <load1> [<stall_s> <max_s>]
        waits until no order is PENDING (or nothing moved for stall_s, or max_s passed), then
        sums up the orders created since <start>: counts by status, first/last POST, last
        CONFIRMED, POST -> CONFIRMED p50/p99; "queries" = how many transactions it ran in the
        orders database (subtracted from the commits per order)
    phases.py statements <pg_base_url> reset|read <orders_db> <products_db>
        when the server loads pg_stat_statements (a private instance: see bench/README.md):
        "reset" empties it, "read" gives every statement of both databases with its calls and
        rows since; "available": false otherwise (nothing is created on such a server)
    phases.py half-rate <figures.jsonl>
        half the sustained phase's confirmed-end-to-end rate (orders/s; 1 if it confirmed none)
    phases.py pace <requests_per_s>
        "<connections> <rate>": how many connections wrk's paced run of that rate needs
"""
import json
import math
import subprocess
import sys
import time

from targets import e2e_rate, first


def psql(url, sql):
    out = subprocess.run(["psql", url, "-XAtqc", sql], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"psql {url}: {out.stderr.strip()}")
    return out.stdout.strip()


def commits(pg, name, orders_db, products_db):
    rows = psql(f"{pg}/postgres", "SELECT datname, xact_commit FROM pg_stat_database "
                f"WHERE datname IN ('{orders_db}', '{products_db}')")
    by_db = dict(line.split("|") for line in rows.splitlines())
    return {"kind": "commits", "name": name, "t": time.time(),
            "orders": int(by_db.get(orders_db, 0)), "products": int(by_db.get(products_db, 0))}


STATEMENTS = """
SELECT coalesce(json_agg(json_build_object(
           'db', d.datname, 'calls', s.calls, 'rows', s.rows,
           'query', left(regexp_replace(s.query, '\\s+', ' ', 'g'), 200)) ORDER BY s.calls DESC), '[]')
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname IN ('{orders_db}', '{products_db}')
"""


def statements(pg, action, orders_db, products_db):
    url = f"{pg}/postgres"
    loaded = "pg_stat_statements" in psql(url, "SHOW shared_preload_libraries")
    out = {"kind": "statements", "name": action, "t": time.time(), "available": loaded}
    if not loaded:
        return out
    psql(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    if action == "reset":
        psql(url, "SELECT pg_stat_statements_reset()")
        return out
    rows = json.loads(psql(url, STATEMENTS.format(orders_db=orders_db, products_db=products_db)))
    names = {orders_db: "orders", products_db: "products"}
    out["rows"] = [{**row, "db": names[row["db"]]} for row in rows]
    return out


def pace(rate):
    """Connections for a paced run (common.lua's schedule sends at `rate` while a connection is
    free): one per 20 requests/s, so each has about 50 ms for an answer before the schedule
    waits for it, at least 2 and at most 64."""
    rate = max(rate, 0.1)
    return max(2, min(64, math.ceil(rate / 20))), round(rate, 1)


SUMMARY = """
WITH mine AS (SELECT id, status, created_at FROM orders WHERE created_at >= to_timestamp({start})),
     latency AS (SELECT extract(epoch FROM min(h.changed_at) - min(m.created_at)) * 1000 AS ms
                 FROM mine m JOIN order_status_history h ON h.order_id = m.id AND h.to_status = 'CONFIRMED'
                 GROUP BY m.id)
SELECT json_build_object(
  'placed', (SELECT count(*) FROM mine),
  'confirmed', (SELECT count(*) FROM mine WHERE status = 'CONFIRMED'),
  'rejected', (SELECT count(*) FROM mine WHERE status = 'REJECTED'),
  'pending', (SELECT count(*) FROM mine WHERE status = 'PENDING'),
  'first_post', (SELECT extract(epoch FROM min(created_at)) FROM mine),
  'last_post', (SELECT extract(epoch FROM max(created_at)) FROM mine),
  'last_confirmed', (SELECT extract(epoch FROM max(h.changed_at)) FROM mine m
                     JOIN order_status_history h ON h.order_id = m.id AND h.to_status = 'CONFIRMED'),
  'p50_confirm_ms', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM latency),
  'p99_confirm_ms', (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM latency))
"""


def half_rate(figures_path):
    figs = [json.loads(line) for line in open(figures_path) if line.strip()]
    return round((e2e_rate(first(figs, kind="phase", name="sustained")) or 2) / 2, 1)


def drain(pg, orders_db, name, start, end, load, stall_s=20.0, max_s=120.0):
    url = f"{pg}/{orders_db}"
    queries, deadline, last, moved = 0, time.time() + float(max_s), None, time.time()
    while time.time() < deadline:
        pending = int(psql(url, "SELECT count(*) FROM orders WHERE status = 'PENDING'"))
        queries += 1
        if pending == 0:
            break
        if pending != last:
            last, moved = pending, time.time()
        if time.time() - moved > float(stall_s):
            break
        time.sleep(0.25)
    out = json.loads(psql(url, SUMMARY.format(start=float(start))))
    queries += 1
    out.update({"kind": "phase", "name": name, "start": float(start), "end": float(end),
                "load": float(load), "drained_at": time.time(), "queries": queries})
    return out


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "commits":
        print(json.dumps(commits(*args)))
    elif cmd == "drain":
        print(json.dumps(drain(*args)))
    elif cmd == "statements":
        print(json.dumps(statements(*args)))
    elif cmd == "half-rate":
        print(half_rate(*args))
    elif cmd == "pace":
        print(*pace(float(args[0])))
    else:
        raise SystemExit(__doc__)
