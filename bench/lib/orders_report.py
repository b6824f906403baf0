"""RESULTS.md's order sections: each order phase (sustained, half-rate, race) in figures, the
sustained phase's per-stage rates with the automatic bottleneck verdict, CPU per process in each
load window, and the per-second samples.
"""
from targets import e2e_rate, first, fmt, http_rate

STATUSES = ("PENDING", "CONFIRMED", "REJECTED", "CANCELLED", "PAID", "EXPIRED")


def v(s, k):
    x = s.get(k)
    return int(x) if isinstance(x, (int, float)) or (isinstance(x, str) and x.isdigit()) else 0


def total(s):
    return sum(v(s, "orders_" + st) for st in STATUSES)


def reservations(s):
    return sum(v(s, "products_" + st) for st in ("reserved", "rejected", "released", "sold"))


def done(s):
    return v(s, "orders_CONFIRMED") + v(s, "orders_REJECTED")


STAGES = [
    ("1. HTTP placing (orders-service + nginx)", "orders rows", total, None),
    ("2. orders outbox relay → orders_stream", "XADDs to orders_stream", lambda s: v(s, "orders_stream_added"),
     lambda s: v(s, "orders_outbox_unpublished")),
    ("3. products consumer (reserve stock)", "reservations rows", reservations,
     lambda s: v(s, "orders_stream_lag") + v(s, "orders_stream_pending")),
    ("4. products outbox relay → inventory_stream", "XADDs to inventory_stream",
     lambda s: v(s, "inventory_stream_added"), lambda s: v(s, "products_outbox_unpublished")),
    ("5. orders consumer (confirm)", "orders CONFIRMED+REJECTED", done,
     lambda s: v(s, "inventory_stream_lag") + v(s, "inventory_stream_pending")),
]


def window(samples, start, end):
    return [s for s in samples if start <= s["t"] <= end + 0.5]


def rate(samples, fn, until_settled=False):
    if until_settled and samples:
        final = fn(samples[-1])
        samples = samples[: next(i for i, s in enumerate(samples) if fn(s) == final) + 1]
    if len(samples) < 2:
        return None
    return (fn(samples[-1]) - fn(samples[0])) / (samples[-1]["t"] - samples[0]["t"])


def cpu_use(samples):
    """{component: cores used} over the samples, counting only processes alive at both ends of
    each second; "everything else" = machine busy time not accounted to a component."""
    if len(samples) < 2:
        return {}
    use = {}
    for a, b in zip(samples, samples[1:]):
        for k, pids in b["cpu"].items():
            before = a["cpu"].get(k, {})
            use[k] = use.get(k, 0.0) + sum(secs - before[p] for p, secs in pids.items() if p in before)
    dt = samples[-1]["t"] - samples[0]["t"]
    use = {k: x / dt for k, x in use.items()}
    busy = use.pop("machine busy", None)
    if busy is not None:
        use["everything else"] = max(0.0, busy - sum(use.values()))
        use["machine busy"] = busy
    return use


def phases_table(figs):
    w = ["| Phase | Load before | HTTP 201/s (wrk) | HTTP p50 / p99 | Placed (DB) | CONFIRMED / REJECTED / PENDING "
         "| Confirmed end to end | POST → CONFIRMED p50 / p99 |", "|---|---|---|---|---|---|---|---|"]
    for p in (f for f in figs if f["kind"] == "phase"):
        http = first(figs, kind="wrk", group="orders", label=p["name"])
        race = first(figs, kind="race") if p["name"] == "race" else None
        answered = (f"{fmt(http_rate(http))} ({http['ok']:,} × 201, other {http['other']:,}: {http['codes'] or 'none'}; "
                    f"socket errors {http['socket_errors']})" if http else
                    f"{race['racers']} at once: {race['codes']}" if race else "-")
        lat = f"{http['p50_ms']} / {http['p99_ms']} ms" if http else "-"
        span = (p["last_post"] - p["first_post"]) if p.get("first_post") else 0
        w.append(f"| {p['name']} | {p['load']} | {answered} | {lat} | {p['placed']:,} in {span:.1f} s | "
                 f"{p['confirmed']:,} / {p['rejected']:,} / {p['pending']:,} | {fmt(e2e_rate(p))}/s | "
                 f"{fmt(p.get('p50_confirm_ms'), 1)} / {fmt(p.get('p99_confirm_ms'), 1)} ms |")
    return w + [""]


def stages_section(samples, phase):
    in_load = window(samples, phase["start"], phase["end"])
    after = [s for s in samples if phase["end"] < s["t"] <= phase["drained_at"]]
    w = ["### Per-stage rates, sustained phase (from the 1 s samples)\n",
         "Backlog in front of a stage: unpublished outbox rows for a relay, the group's lag + pending for a "
         "consumer. A stage is the bottleneck when its backlog grows while the load runs.\n",
         "| Stage | Counted as | Rate while posting (/s) | Rate after posting, until done (/s) | Backlog at end of posting | Max backlog |",
         "|---|---|---|---|---|---|"]
    growth = {}
    for name, what, fn, backlog in STAGES:
        end_backlog = backlog(in_load[-1]) if backlog and in_load else None
        max_backlog = max((backlog(s) for s in in_load + after), default=None) if backlog else None
        if backlog and in_load:
            growth[name] = end_backlog - backlog(in_load[0])
        w.append(f"| {name} | {what} | {fmt(rate(in_load, fn))} | {fmt(rate(after, fn, True))} | "
                 f"{fmt(end_backlog) if backlog else '-'} | {fmt(max_backlog) if backlog else '-'} |")
    w.append("")
    if len(in_load) >= 2:
        top = max(growth, key=growth.get) if growth else None
        if top and growth[top] > max(50, 0.05 * (total(in_load[-1]) - total(in_load[0]))):
            w.append(f"Automatic verdict: the backlog grew fastest in front of **{top}** (+{growth[top]:,} while "
                     "posting); the stages before it kept up.\n")
        else:
            w.append("Automatic verdict: no backlog grew while posting: the asynchronous pipeline kept up with HTTP "
                     f"placing ({fmt(rate(in_load, total))} placed/s vs {fmt(rate(in_load, done))} confirmed/s), so "
                     "the limit is **HTTP placing** (nginx + orders-service + PostgreSQL on the shared cores).\n")
    return w


def cpu_section(figs, samples):
    windows = [(p["name"], p["start"], p["end"]) for p in figs if p["kind"] == "phase" and p["name"] != "race"]
    windows += [(f["name"], f["start"], f["end"]) for f in figs if f["kind"] == "window"]
    uses = [(name, cpu_use(window(samples, a, b))) for name, a, b in windows]
    uses = [(n, u) for n, u in uses if u]
    if not uses:
        return []
    names = sorted({k for _, u in uses for k in u if k != "machine busy"}, key=lambda k: -max(u.get(k, 0) for _, u in uses))
    w = ["### CPU per process while loading (cores used; /proc utime+stime deltas)\n",
         "| Window | " + " | ".join(names) + " | machine busy |", "|" + "---|" * (len(names) + 2)]
    for n, u in uses:
        w.append(f"| {n} | " + " | ".join(f"{u.get(k, 0):.2f}" for k in names) + f" | {fmt(u.get('machine busy'), 2)} |")
    w.append("\n(postgres (this run) = backends on this run's databases; postgres (others) = PostgreSQL's background "
             "processes and other people's databases; everything else = the kernel, the sampler and any other "
             "process on the machine.)\n")
    return w


def samples_section(samples, figs):
    if not samples:
        return []
    t0, step = samples[0]["t"], max(1, len(samples) // 40)
    marks = [(f["name"], f["start"], f["end"]) for f in figs if f["kind"] in ("phase", "window")]
    w = [f"### Samples (every {step} s; t from the first sample; load = 1-min load average)\n",
         "| t s | loading | placed | orders outbox unpub. | orders_stream lag / pending | reservations | "
         "products outbox unpub. | inventory_stream lag / pending | confirmed | RSS auth / products / orders MB | load |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, s in enumerate(samples):
        if i % step and i != len(samples) - 1:
            continue
        mark = next((n for n, a, b in marks if a <= s["t"] <= b), "")
        rss = s.get("rss_kb", {})
        w.append(f"| {s['t'] - t0:.0f} | {mark} | {total(s):,} | {v(s, 'orders_outbox_unpublished'):,} | "
                 f"{s.get('orders_stream_lag')} / {v(s, 'orders_stream_pending')} | {reservations(s):,} | "
                 f"{v(s, 'products_outbox_unpublished'):,} | {s.get('inventory_stream_lag')} / "
                 f"{v(s, 'inventory_stream_pending')} | {v(s, 'orders_CONFIRMED'):,} | "
                 + " / ".join(fmt(rss.get(k, 0) * 1024 / 1e6, 1) for k in ("auth", "products", "orders"))
                 + f" | {s['load1']:.2f} |")
    return w + [""]


def commits_by_database(figs, samples):
    """{database: commits} of the sustained phase, less the bench's own transactions in each (a
    sample's query per database, the drain's polls in the orders database)."""
    before, after = first(figs, kind="commits", name="sustained before"), first(figs, kind="commits", name="sustained after")
    phase = first(figs, kind="phase", name="sustained")
    if not (before and after and phase):
        return {}
    own = sum(1 for s in samples if before["t"] <= s["t"] <= after["t"])
    return {"orders": max(0, after["orders"] - before["orders"] - own - phase.get("queries", 0)),
            "products": max(0, after["products"] - before["products"] - own)}


def statements_section(figs, samples, top=25):
    """Commits and statements per order in each database over the sustained phase, from
    pg_stat_statements when the server loads it."""
    read = first(figs, kind="statements", name="read")
    phase = first(figs, kind="phase", name="sustained")
    if not (read and read.get("available") and phase and phase["placed"]):
        return []
    placed = phase["placed"]
    commits = commits_by_database(figs, samples)
    rows = read.get("rows", [])
    w = ["### Statements per order, sustained phase (pg_stat_statements)\n",
         "Every statement of the two databases from just before the sustained run to 11 s after its drain, "
         f"÷ the {placed:,} orders placed (the bench's own sampler and drain queries are among them). BEGIN and "
         "COMMIT are statements too.\n",
         "| Database | Commits / order | Statements / order |", "|---|---|---|"]
    for db in ("orders", "products"):
        calls = sum(r["calls"] for r in rows if r["db"] == db)
        w.append(f"| {db} | {fmt(commits.get(db) and commits[db] / placed, 2)} | {fmt(calls / placed, 2)} |")
    w += ["", "| Database | Calls | Per order | Rows | Statement |", "|---|---|---|---|---|"]
    for r in rows[:top]:
        query = r["query"].replace("|", "\\|")
        w.append(f"| {r['db']} | {r['calls']:,} | {r['calls'] / placed:.3f} | {r['rows']:,} | `{query}` |")
    return w + [""]


def section(figs, samples, buyers, products, conns, order_s):
    if not any(f["kind"] == "phase" for f in figs):
        return []
    pace = first(figs, kind="pace")
    w = [f"## Orders end to end ({buyers} buyers, {products} products with ample stock, one line each, through nginx)\n",
         f"- **sustained**: wrk, {conns} connections, as fast as it goes for {order_s} s.",
         f"- **half-rate**: wrk paced at half the sustained confirmed rate ({fmt(pace and pace['target_rate'])}/s: "
         f"{pace and pace['connections']} connections, requests sent on a fixed schedule while a connection is free)."
         if pace else "- **half-rate**: not run.",
         "- **race**: every racer places one order for the race product at the same moment.\n",
         "POST → CONFIRMED is measured in the orders database: the order's `created_at` to its CONFIRMED "
         "transition in `order_status_history`. Each phase waits until no order is PENDING before the next.\n"]
    w += phases_table(figs)
    sustained = first(figs, kind="phase", name="sustained")
    if sustained and samples:
        w += stages_section(samples, sustained)
    w += statements_section(figs, samples)
    w += cpu_section(figs, samples)
    w += samples_section(samples, figs)
    return w
