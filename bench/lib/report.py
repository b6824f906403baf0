"""bench/run's parser and report writer.

    report.py wrk <wrk output> <group> <label> <url> <load1> [<upstream requests>]
                                                               -> one JSON line on stdout
    report.py results <figures.jsonl> <samples.jsonl> <RESULTS.md> <started> <finished> \
              <rust_log> <wrk_seconds> <connections> <buyers> <products> <order_seconds>
"""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    return round(float(m.group(1)) * UNITS[m.group(2)], 3) if m else None


def parse_wrk(path, group, label, url, load, upstream=None):
    text = open(path).read()
    out = {"kind": "wrk", "group": group, "label": label, "url": url, "load": float(load)}
    if upstream not in (None, ""):
        out["upstream"] = int(upstream)
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    out["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        out[f"p{pct}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([0-9.]+)(\w+)", text)
    out["requests"] = int(m.group(1)) if m else 0
    out["seconds"] = ms(m.group(2) + m.group(3)) / 1000 if m and ms(m.group(2) + m.group(3)) else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(map(int, m.groups())) if m else 0
    m = re.search(r"ORDERS created=(\d+) other=(\d+) codes=(.*)", text)
    if m:
        out["created"], out["other"] = int(m.group(1)), int(m.group(2))
        out["codes"] = " ".join(sorted(set(m.group(3).split())))
    print(json.dumps(out))


# Issue 12's targets for the catalog on the large catalog, through nginx: (label prefix, what is
# measured, the bound). "static" is a share of the same run's nginx static req/s.
TARGETS = [
    ("first page", [("rps", ">=", "static", 0.5), ("p99_ms", "<", None, 25)]),
    ("category page", [("rps", ">=", "static", 0.5), ("p99_ms", "<", None, 25)]),
    ("product page", [("rps", ">=", "static", 0.5), ("p99_ms", "<", None, 25)]),
    ("common word", [("p50_ms", "<", None, 20), ("p99_ms", "<", None, 60), ("rps", ">=", None, 1500)]),
    ("rare word", [("p99_ms", "<", None, 25)]),
    ("filtered and sorted", [("p99_ms", "<", None, 25)]),
    ("page 500", [("p99_ms", "<", None, 25)]),
]


def verdicts(label, run, static_rps):
    """[(what, measured, bound, met)] for the targets of the catalog request `label`."""
    out = []
    for prefix, checks in TARGETS:
        if not label.startswith(prefix):
            continue
        for key, op, relative, bound in checks:
            value = run.get(key)
            if relative == "static":
                if not static_rps:
                    continue
                limit = bound * static_rps
                shown = f"{bound:.0%} of nginx static ({limit:,.0f} req/s)"
            else:
                limit = bound
                shown = f"{bound:,} {'req/s' if key == 'rps' else 'ms'}"
            met = value is not None and (value >= limit if op == ">=" else value < limit)
            name = {"rps": "req/s", "p50_ms": "p50", "p99_ms": "p99"}[key]
            out.append((name, value, f"{op} {shown}", met))
    return out


def fmt(x, digits=0):
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine():
    model = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = int(open("/proc/meminfo").readline().split()[1]) // 1024 // 1024
    return f"{os.cpu_count()} cores ({model}), {mem} GiB RAM, {platform.system()} {platform.release()}"


def results(figures_path, samples_path, out_path, started, finished, rust_log, wrk_s, conns, buyers, products, order_s,
            orders_pool="default"):
    figs = [json.loads(l) for l in open(figures_path) if l.strip()]
    samples = [json.loads(l) for l in open(samples_path) if l.strip()] if os.path.exists(samples_path) else []
    commit = sh("git", "rev-parse", "--short", "HEAD")
    dirty = sh("git", "status", "--porcelain", "--", "auth-service", "products-service", "orders-service",
               "stream-lib", "web-kit", "auth-kit", "Cargo.lock")
    day = datetime.datetime.fromtimestamp(int(started), datetime.timezone.utc)
    w = []
    w.append("# Benchmark results\n")
    w.append(f"Written by `bench/run` (see bench/README.md for what each number means). "
             f"Run {day:%Y-%m-%d %H:%M} UTC, {int(finished) - int(started)} s, commit `{commit}`"
             f"{' with uncommitted service changes' if dirty else ''}.  ")
    w.append(f"Machine: {machine()}, shared: every figure carries the 1-minute load average taken "
             f"just before it (it includes this run's own previous phase). Services: release build, `RUST_LOG={rust_log}`, one process each, "
             f"orders-service `DATABASE_MAX_CONNECTIONS={orders_pool}`, "
             f"PostgreSQL 15 and Redis 7 shared with everything else on the machine; load generator "
             f"(wrk, 1 thread, {conns} connections) on the same 2 cores.\n")

    # Baselines.
    wrks = [f for f in figs if f["kind"] == "wrk"]
    groups = {}
    for f in wrks:
        groups.setdefault((f["group"], f["label"]), []).append(f)

    def median_run(runs):
        ordered = sorted(runs, key=lambda r: r["rps"])
        return ordered[len(ordered) // 2]

    static = [runs for (g, _), runs in groups.items() if g == "static"]
    static_rps = median_run(static[0])["rps"] if static else None
    w.append("## Machine limits (same run)\n")
    w.append("| Baseline | Figure | Load avg before |")
    w.append("|---|---|---|")
    for f in figs:
        if f["kind"] == "redis":
            w.append(f"| redis-benchmark {f['name']} | {fmt(f['rps'])} ops/s (p50 {f['p50_ms']} ms) | {f['load']} |")
        if f["kind"] == "pgbench":
            w.append(f"| pgbench {f['name']} | {fmt(f['tps'])} tps (avg latency {f['latency_ms']} ms) | {f['load']} |")
    if static:
        m = median_run(static[0])
        w.append(f"| nginx static `/favicon.svg` (wrk, median of 3) | {fmt(m['rps'])} req/s "
                 f"(p50 {m['p50_ms']} ms, p99 {m['p99_ms']} ms; runs: {', '.join(fmt(r['rps']) for r in static[0])}) | "
                 f"{', '.join(str(r['load']) for r in static[0])} |")
    w.append("")

    # Catalog.
    w.append("## Catalog reads (GET, wrk, median of 3 runs)\n")
    notes = [f for f in figs if f["kind"] == "note"]
    for n in notes:
        if n["name"] == "catalog_big":
            w.append(f"The large catalog was inserted with SQL (bench/lib/big_catalog.sql) in {n['insert_s']} s.\n")
    w.append("Through nginx, most requests are answered from its catalog cache; \"upstream /s\" is how many "
             "reached products-service per second (its own request counter, read before and after the run).\n")
    w.append("| Catalog | Query | Path | req/s (median) | runs | p50 ms | p99 ms | errors | vs nginx static | upstream /s | load avg |")
    w.append("|---|---|---|---|---|---|---|---|---|---|---|")
    catalog_groups = []
    for (g, label), runs in groups.items():
        if not g.startswith("catalog"):
            continue
        if g not in catalog_groups:
            catalog_groups.append(g)
        m = median_run(runs)
        query, _, path = label.rpartition(" via nginx") if label.endswith(" via nginx") else label.rpartition(" direct")
        path = "nginx" if label.endswith("via nginx") else "direct"
        errors = sum(r["non2xx"] + r["socket_errors"] for r in runs)
        ratio = f"{m['rps'] / static_rps:.1%}" if static_rps else "n/a"
        upstream = (fmt(m["upstream"] / m["seconds"], 1) if m.get("upstream") is not None and m.get("seconds")
                    else "-")
        w.append(f"| {g.replace('catalog ', '')} | {query} | {path} | {fmt(m['rps'])} | "
                 f"{' / '.join(fmt(r['rps']) for r in runs)} | {m['p50_ms']} | {m['p99_ms']} | {errors} | {ratio} | "
                 f"{upstream} | {', '.join(str(r['load']) for r in runs)} |")
    w.append("")
    for n in notes:
        if n["name"] == "catalog_memory":
            w.append(f"Memory after the catalog reads ({n['group'].replace('catalog ', '')}): products-service "
                     f"{fmt(n['products_rss_kb'] / 1024, 1)} MiB resident, nginx's catalog cache "
                     f"{fmt(n['nginx_cache_kb'] / 1024, 1)} MiB on disk. Staleness: an anonymous read through "
                     f"nginx is at most 2 s old (s-maxage=1 with X-Accel-Expires); see products-service/README.md.\n")
    if catalog_groups:
        big = catalog_groups[-1]
        w.append(f"### Targets (issue 12), {big.replace('catalog ', '')}, through nginx, median run\n")
        w.append("| Request | Figure | Measured | Target | Met |")
        w.append("|---|---|---|---|---|")
        for (g, label), runs in groups.items():
            if g != big or not label.endswith(" via nginx"):
                continue
            query = label[: -len(" via nginx")]
            for name, value, bound, met in verdicts(query, median_run(runs), static_rps):
                w.append(f"| {query} | {name} | {fmt(value, 1 if name != 'req/s' else 0)} | {bound} | "
                         f"{'yes' if met else '**no**'} |")
        w.append("")

    # Orders.
    db = next((f for f in figs if f["kind"] == "orders_db"), None)
    http = next((f for f in wrks if f["group"] == "orders"), None)
    pg = next((f for f in figs if f["kind"] == "pgbench"), None)
    verdict_lines = []
    if db and http:
        span = (db["last_confirmed"] or db["first_post"]) - db["first_post"] if db["first_post"] else 0
        e2e = db["confirmed"] / span if span > 0 else 0.0
        post_span = (db["last_post"] - db["first_post"]) if db["first_post"] else 0
        w.append(f"## Orders end to end ({buyers} buyers, {products} products with ample stock, one line "
                 f"each, {conns} connections through nginx for {order_s} s)\n")
        w.append("| Figure | Value |")
        w.append("|---|---|")
        w.append(f"| Load average before the load | {db['load']} |")
        w.append(f"| HTTP: POST /api/orders answered (wrk) | {fmt(http['rps'])} req/s; {http.get('created', 0):,} × 201, "
                 f"{http.get('other', 0):,} other ({http.get('codes') or 'none'}), socket errors {http['socket_errors']} |")
        w.append(f"| HTTP latency p50 / p99 | {http['p50_ms']} ms / {http['p99_ms']} ms |")
        w.append(f"| Orders placed (orders DB), first to last POST | {db['placed']:,} in {post_span:.1f} s = "
                 f"{fmt(db['placed'] / post_span if post_span else 0)} orders/s |")
        w.append(f"| Orders CONFIRMED / REJECTED / still PENDING at the end | {db['confirmed']:,} / {db['rejected']:,} / {db['pending']:,} |")
        w.append(f"| **Confirmed end to end** (confirmed ÷ time from first POST to last CONFIRMED) | "
                 f"**{fmt(e2e)} orders/s** over {span:.1f} s |")
        w.append(f"| Time from POST to CONFIRMED, p50 / p99 | {fmt(db['p50_confirm_s'], 2)} s / {fmt(db['p99_confirm_s'], 2)} s |")
        w.append(f"| vs roadmap target 1,000 orders/s confirmed | {e2e / 1000:.1%} |")
        if static_rps:
            w.append(f"| HTTP placing vs nginx static | {http['rps'] / static_rps:.1%} |")
        if pg:
            w.append(f"| Confirmed orders/s vs pgbench TPC-B tps | {e2e / pg['tps']:.1%} (each order is ≥ 4 "
                     f"transactions: place, relay batch, reserve, confirm) |")
        w.append("")

    if samples:
        t0 = samples[0]["t"]
        ls, le = (db["load_start"], db["load_end"]) if db else (t0, samples[-1]["t"])

        def v(s, k):
            x = s.get(k)
            return int(x) if isinstance(x, (int, float)) or (isinstance(x, str) and x.isdigit()) else 0

        def total(s):
            return sum(v(s, "orders_" + st) for st in ("PENDING", "CONFIRMED", "REJECTED", "CANCELLED", "PAID", "EXPIRED"))

        def reservations(s):
            return sum(v(s, "products_" + st) for st in ("reserved", "rejected", "released", "sold"))

        def done(s):
            return v(s, "orders_CONFIRMED") + v(s, "orders_REJECTED")

        stages = [
            ("1. HTTP placing (orders-service + nginx)", "orders rows", total, None),
            ("2. orders outbox relay → orders_stream", "XADDs to orders_stream", lambda s: v(s, "orders_stream_added"),
             lambda s: v(s, "orders_outbox_unpublished")),
            ("3. products consumer (reserve stock)", "reservations rows", reservations,
             lambda s: v(s, "orders_stream_lag") + v(s, "orders_stream_pending")),
            ("4. products outbox relay → inventory_stream", "XADDs to inventory_stream (≈2 per order: stock.reserved + product.updated)",
             lambda s: v(s, "inventory_stream_added"), lambda s: v(s, "products_outbox_unpublished")),
            ("5. orders consumer (confirm)", "orders CONFIRMED+REJECTED", done,
             lambda s: v(s, "inventory_stream_lag") + v(s, "inventory_stream_pending")),
        ]
        in_load = [s for s in samples if ls <= s["t"] <= le + 0.5]
        placed_all = total(samples[-1]) - total(samples[0])
        commits = {db_: v(samples[-1], db_ + "_commits") - v(samples[0], db_ + "_commits") for db_ in ("orders", "products")}
        after = [s for s in samples if s["t"] > le]

        def rate(window, fn, until_settled=False):
            if until_settled and window:
                # After posting: up to the first sample where the counter reached its final value.
                final = fn(window[-1])
                window = window[: next(i for i, s in enumerate(window) if fn(s) == final) + 1]
            if len(window) < 2:
                return None
            return (fn(window[-1]) - fn(window[0])) / (window[-1]["t"] - window[0]["t"])

        if placed_all:
            w.append(f"PostgreSQL commits over the whole order phase (pg_stat_database.xact_commit, includes the "
                     f"sampler's ~2 per second): orders DB {commits['orders']:,}, products DB {commits['products']:,}, "
                     f"= {(commits['orders'] + commits['products']) / placed_all:.1f} commits per order placed.\n")
        w.append("### Per-stage rates (from the 1 s samples)\n")
        w.append("Backlog in front of a stage: unpublished outbox rows for a relay, the group's lag + "
                 "pending for a consumer. A stage is the bottleneck when its backlog grows while the load runs.\n")
        w.append("| Stage | Counted as | Rate while posting (/s) | Rate after posting, until done (/s) | Backlog at end of posting | Max backlog |")
        w.append("|---|---|---|---|---|---|")
        growth = {}
        for name, what, fn, backlog in stages:
            end_backlog = backlog(in_load[-1]) if backlog and in_load else None
            max_backlog = max(backlog(s) for s in samples) if backlog else None
            if backlog and in_load:
                growth[name] = end_backlog - backlog(in_load[0])
            w.append(f"| {name} | {what} | {fmt(rate(in_load, fn))} | {fmt(rate(after, fn, True))} | "
                     f"{fmt(end_backlog) if backlog else '-'} | {fmt(max_backlog) if backlog else '-'} |")
        w.append("")

        if len(in_load) >= 2:
            dt = in_load[-1]["t"] - in_load[0]["t"]
            # Per component, sum the CPU seconds of the processes alive at both ends of each second.
            use = {}
            for a, b in zip(in_load, in_load[1:]):
                for k, pids in b["cpu"].items():
                    before = a["cpu"].get(k, {})
                    use[k] = use.get(k, 0.0) + sum(secs - before[p] for p, secs in pids.items() if p in before)
            use = {k: x / dt for k, x in use.items()}
            machine_busy = use.pop("machine busy", None)
            ours = sum(use.values())
            if machine_busy is not None:
                use["everything else"] = max(0.0, machine_busy - ours)
            names = sorted(use, key=lambda k: -use[k])
            w.append("### CPU while posting (cores used, out of 2)\n")
            w.append("| " + " | ".join(names) + " | machine busy |")
            w.append("|" + "---|" * (len(names) + 1))
            w.append("| " + " | ".join(f"{use[k]:.2f}" for k in names) + f" | {fmt(machine_busy, 2)} |")
            w.append("\n(From /proc: postgres (this run) = backends on this run's databases; postgres (others) = "
                     "PostgreSQL's background processes and other people's databases; everything else = "
                     "the kernel, the sampler, and any other process on the machine.)\n")

            top = max(growth, key=growth.get) if growth else None
            placed_rate = rate(in_load, total)
            done_rate = rate(in_load, done)
            if top and growth[top] > max(50, 0.05 * (total(in_load[-1]) - total(in_load[0]))):
                verdict_lines.append(f"Automatic verdict: the backlog grew fastest in front of **{top}** "
                                     f"(+{growth[top]:,} while posting); the stages before it kept up.")
            else:
                verdict_lines.append("Automatic verdict: no backlog grew while posting: the asynchronous pipeline kept "
                                     f"up with HTTP placing ({fmt(placed_rate)} placed/s vs {fmt(done_rate)} "
                                     "confirmed/s), so the limit is **HTTP placing**, i.e. the CPU left for "
                                     "nginx + orders-service + PostgreSQL on 2 shared cores.")
            w.extend(verdict_lines)
            w.append("")

        w.append("### Samples (every 2nd second; t from the first sample; load = 1-min load average)\n")
        w.append("| t s | placed | orders outbox unpub. | orders_stream lag / pending | reservations | products outbox unpub. | inventory_stream lag / pending | confirmed | load |")
        w.append("|---|---|---|---|---|---|---|---|---|")
        for i, s in enumerate(samples):
            if i % 2 and i != len(samples) - 1:
                continue
            mark = " (posting)" if ls <= s["t"] <= le else ""
            w.append(f"| {s['t'] - t0:.0f}{mark} | {total(s):,} | {v(s, 'orders_outbox_unpublished'):,} | "
                     f"{s.get('orders_stream_lag')} / {v(s, 'orders_stream_pending')} | {reservations(s):,} | "
                     f"{v(s, 'products_outbox_unpublished'):,} | {s.get('inventory_stream_lag')} / "
                     f"{v(s, 'inventory_stream_pending')} | {v(s, 'orders_CONFIRMED'):,} | {s['load1']:.2f} |")
        w.append("")
    with open(out_path, "w") as f:
        f.write("\n".join(w))


if __name__ == "__main__":
    if sys.argv[1] == "wrk":
        parse_wrk(*sys.argv[2:8])
    elif sys.argv[1] == "results":
        results(*sys.argv[2:15])
    else:
        raise SystemExit(__doc__)
