"""The correctness checks bench/run makes of what it loaded, each a JSON figure
{"kind": "check", "name", "ok", "detail"}; any failed check fails the run.

    checks.py run <pg_base_url> <orders_db> <products_db> <run_dir> <figures.jsonl>  -> JSON lines
    checks.py verdict <figures.jsonl>   -> exit 1 (naming them) if a check failed or none ran

It reads only the orders tables of orders-service (orders, order_items, order_status_history) and
the stock of products-service (products.stock, reservations' status and lines), never through
the services' code: what a buyer was told (201 with an id) against what the databases hold.
"""
import glob
import json
import subprocess
import sys


def psql(url, sql):
    out = subprocess.run(["psql", url, "-XAtqc", sql], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr.strip())
    return [line.split("|") for line in out.stdout.splitlines() if line]


def check(name, ok, detail):
    return {"kind": "check", "name": name, "ok": bool(ok), "detail": detail}


def server_errors(figures):
    """No 5xx anywhere: the Lua scripts' counts, the race's statuses, wrk's non-2xx elsewhere."""
    bad = []
    for f in figures:
        if f["kind"] == "wrk" and "server_errors" in f and f["server_errors"]:
            bad.append(f"{f['label']}: {f['server_errors']} × 5xx ({f.get('codes')})")
        elif f["kind"] == "wrk" and "server_errors" not in f and f["non2xx"]:
            bad.append(f"{f['label']}: {f['non2xx']} non-2xx")
        elif f["kind"] == "race":
            fives = {c: n for c, n in f["codes"].items() if not c.isdigit() or int(c) >= 500}
            if fives:
                bad.append(f"race: {fives}")
    return check("no 5xx (nor other errors) answered", not bad, "; ".join(bad) or "none")


def answered(figures, phase):
    """(201s, ids seen in them, answers never seen) of the load named `phase`: its wrk run, or the
    race. wrk never sees the answers of timed-out requests, nor of those in flight on each
    connection when it stops: such an order may exist without its 201."""
    if phase == "race":
        f = next((x for x in figures if x["kind"] == "race"), None)
        return (f["codes"].get("201", 0), set(f["ids"]), 0) if f else (None, set(), 0)
    http = next((w for w in figures if w["kind"] == "wrk" and w.get("group") == "orders"
                 and w.get("label") == phase), None)
    return (http.get("ok"), None, http["timeouts"] + http.get("connections", 0)) if http else (None, None, 0)


def orders_told(figures, ids):
    """Every order answered 201 exists and left PENDING; as many rows as 201s (plus at most the
    requests whose answer wrk never saw), so none was lost."""
    out = []
    for f in figures:
        if f["kind"] != "phase":
            continue
        told, seen, unknown = answered(figures, f["name"])
        seen = ids.get(f["name"], set()) if seen is None else seen
        missing = len(seen - ids["db"])
        extra = f["placed"] - told if told is not None else None
        ok = (told is not None and missing == 0 and len(seen) == told
              and 0 <= extra <= unknown and f["pending"] == 0)
        out.append(check(f"{f['name']}: every order answered 201 is in the database, none PENDING", ok,
                         f"201s {told}, ids seen {len(seen)}, missing from the DB {missing}, "
                         f"rows {f['placed']} (extra {extra}, answers unseen at most {unknown}), PENDING {f['pending']}"))
    return out


def stock_conserved(products_url, stock):
    """initial = stock + reserved + sold for every bench product (released stock is back in stock)."""
    initial = {**stock["load"], **stock["race"]}
    ids = ",".join(f"'{i}'" for i in initial)
    rows = psql(products_url, f"""
        SELECT p.id, p.stock,
               coalesce(sum((l ->> 'quantity')::int) FILTER (WHERE r.status = 'reserved'), 0),
               coalesce(sum((l ->> 'quantity')::int) FILTER (WHERE r.status = 'sold'), 0)
        FROM products p
        LEFT JOIN (reservations r CROSS JOIN LATERAL jsonb_array_elements(r.lines) l)
               ON (l ->> 'product_id')::uuid = p.id
        WHERE p.id IN ({ids}) GROUP BY p.id, p.stock""")
    held = {pid: (int(s), int(r), int(sold)) for pid, s, r, sold in rows}
    bad = [f"{pid}: {initial[pid]} != {held[pid][0]} + {held[pid][1]} + {held[pid][2]}"
           for pid in initial if pid in held and initial[pid] != sum(held[pid])]
    bad += [f"{pid}: not found" for pid in initial if pid not in held]
    taken = sum(r + sold for _, r, sold in held.values())
    return held, check("every product's stock conserved (initial = stock + reserved + sold)", not bad,
                       "; ".join(bad[:5]) or f"{len(held)} products, {taken:,} units reserved or sold")


def confirmed_units(orders_url):
    """Units of CONFIRMED or PAID orders per product, from orders-service's side."""
    rows = psql(orders_url, "SELECT i.product_id, sum(i.quantity) FROM order_items i "
                "JOIN orders o ON o.id = i.order_id WHERE o.status IN ('CONFIRMED', 'PAID') GROUP BY 1")
    return {pid: int(n) for pid, n in rows}


def both_sides_agree(held, confirmed):
    bad = [f"{pid}: products holds {r + s}, orders confirmed {confirmed.get(pid, 0)}"
           for pid, (_, r, s) in held.items() if r + s != confirmed.get(pid, 0)]
    return check("units reserved or sold = units of CONFIRMED/PAID orders, per product", not bad,
                 "; ".join(bad[:5]) or "equal for every product")


def one_order_per_request(orders_url):
    """Every request has its own x-request-id (set by nginx), which the order keeps as its
    correlation_id: two orders with one id are one request placed twice."""
    n = int(psql(orders_url, "SELECT count(*) FROM (SELECT correlation_id FROM orders "
                 "GROUP BY 1 HAVING count(*) > 1) d")[0][0])
    return check("no request placed two orders (one order per correlation_id)", n == 0, f"{n} correlation ids repeated")


def no_double_transitions(orders_url):
    rows = psql(orders_url, "SELECT count(*) FROM (SELECT order_id, to_status FROM order_status_history "
                "GROUP BY 1, 2 HAVING count(*) > 1) d")
    n = int(rows[0][0])
    return check("no order went through the same status twice", n == 0, f"{n} (order, status) repeated")


def race(figures, held, stock, confirmed):
    f = next((x for x in figures if x["kind"] == "race"), None)
    if f is None:
        return check("race", False, "the race did not run")
    (pid, units), = stock["race"].items()
    left, reserved, sold = held.get(pid, (None, 0, 0))
    ok = confirmed.get(pid, 0) == units and reserved + sold == units and left == 0
    return check(f"{f['racers']} buyers racing for {units} units: exactly {units} sold", ok,
                 f"confirmed {confirmed.get(pid, 0)}, reserved+sold {reserved + sold}, stock left {left}, "
                 f"HTTP {f['codes']}")


def read_ids(run_dir, figures):
    ids = {"db": set()}
    for f in figures:
        if f["kind"] == "phase":
            ids[f["name"]] = set()
            for path in glob.glob(f"{run_dir}/ids-{f['name']}.txt.*"):
                ids[f["name"]].update(line.strip() for line in open(path) if line.strip())
    return ids


def run(pg, orders_db, products_db, run_dir, figures_path):
    with open(figures_path) as f:
        figures = [json.loads(line) for line in f if line.strip()]
    out = [server_errors(figures)]
    try:
        with open(f"{run_dir}/stock.json") as f:
            stock = json.load(f)
        ids = read_ids(run_dir, figures)
        ids["db"] = {row[0] for row in psql(f"{pg}/{orders_db}", "SELECT id FROM orders")}
        out += orders_told(figures, ids)
        held, conserved = stock_conserved(f"{pg}/{products_db}", stock)
        confirmed = confirmed_units(f"{pg}/{orders_db}")
        out += [conserved, both_sides_agree(held, confirmed), one_order_per_request(f"{pg}/{orders_db}"),
                no_double_transitions(f"{pg}/{orders_db}"),
                race(figures, held, stock, confirmed)]
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        out.append(check("the checks could run", False, f"{err.__class__.__name__}: {err}"))
    return out


def verdict(figures_path):
    with open(figures_path) as f:
        checks = [c for c in map(json.loads, filter(str.strip, f)) if c["kind"] == "check"]
    failed = [c for c in checks if not c["ok"]]
    for c in failed:
        print(f"FAILED: {c['name']}: {c['detail']}", file=sys.stderr)
    if not checks:
        print("FAILED: no correctness check ran", file=sys.stderr)
    return 1 if failed or not checks else 0


if __name__ == "__main__":
    if sys.argv[1] == "run":
        for figure in run(*sys.argv[2:7]):
            print(json.dumps(figure))
    elif sys.argv[1] == "verdict":
        sys.exit(verdict(sys.argv[2]))
    else:
        raise SystemExit(__doc__)
