"""The headline: issue 11's figures, each beside its same-run ceiling and its target, with pass or
miss and the load average taken before it. Pure functions of the run's figures and samples.
"""

MB = 1_000_000


def first(figs, **match):
    return next((f for f in figs if all(f.get(k) == v for k, v in match.items())), None)


def e2e_rate(phase):
    """Confirmed ÷ time from the first POST to the last CONFIRMED."""
    if not phase or phase.get("first_post") is None or phase.get("last_confirmed") is None:
        return None
    span = phase["last_confirmed"] - phase["first_post"]
    return phase["confirmed"] / span if span > 0 else None


def http_rate(run):
    return run["ok"] / run["seconds"] if run and run.get("seconds") and "ok" in run else None


def commits_per_order(figs, samples):
    """(commits, orders) of the sustained phase: xact_commit deltas of both databases, less the
    transactions the bench itself ran in them (one per database per sample, the drain's polls)."""
    before, after = first(figs, kind="commits", name="sustained before"), first(figs, kind="commits", name="sustained after")
    phase = first(figs, kind="phase", name="sustained")
    if not (before and after and phase and phase["placed"]):
        return None
    raw = (after["orders"] - before["orders"]) + (after["products"] - before["products"])
    own = 2 * sum(1 for s in samples if before["t"] <= s["t"] <= after["t"]) + phase.get("queries", 0)
    return max(0, raw - own), phase["placed"]


def memory(figs, samples):
    """({service: idle KiB}, {service: max KiB under load})."""
    idle = (first(figs, kind="memory", name="idle") or {}).get("rss_kb", {})
    loaded = {}
    for s in samples:
        for name, kb in s.get("rss_kb", {}).items():
            loaded[name] = max(loaded.get(name, 0), kb)
    for n in figs:
        if n["kind"] == "note" and n["name"] == "catalog_memory":
            loaded["products"] = max(loaded.get("products", 0), n["products_rss_kb"])
    return idle, loaded


def row(figure, measured, ceiling, target, met, load):
    return {"figure": figure, "measured": measured, "ceiling": ceiling, "target": target,
            "met": met, "load": load}


def fmt(x, digits=0, unit=""):
    return "n/a" if x is None else f"{x:,.{digits}f}{unit}"


def headline(figs, samples):
    rows = []
    static = sorted((f for f in figs if f["kind"] == "wrk" and f.get("group") == "static"), key=lambda f: f["rps"])
    static_rps = static[len(static) // 2]["rps"] if static else None
    pg = first(figs, kind="pgbench")
    sustained, half = first(figs, kind="phase", name="sustained"), first(figs, kind="phase", name="half-rate")
    http = first(figs, kind="wrk", group="orders", label="sustained")

    placed = http_rate(http)
    rows.append(row("Orders placed over HTTP (201/s, POST /api/orders via nginx), sustained",
                    f"{fmt(placed)}/s (p99 {fmt(http and http['p99_ms'], 1)} ms)",
                    f"nginx static {fmt(static_rps)} req/s", ">= 1,500/s",
                    placed is not None and placed >= 1500, http and http["load"]))
    e2e = e2e_rate(sustained)
    rows.append(row("Orders confirmed end to end, sustained", f"{fmt(e2e)}/s",
                    f"pgbench TPC-B {fmt(pg and pg['tps'])} tps", ">= 1,000/s",
                    e2e is not None and e2e >= 1000, sustained and sustained["load"]))
    share = e2e / pg["tps"] if e2e is not None and pg and pg["tps"] else None
    rows.append(row("Confirmed/s ÷ same-run pgbench tps", fmt(share and share * 100, 1, " %"),
                    f"pgbench TPC-B {fmt(pg and pg['tps'])} tps", ">= 30 %",
                    share is not None and share >= 0.30, sustained and sustained["load"]))
    pace = first(figs, kind="pace")
    half_http = first(figs, kind="wrk", group="orders", label="half-rate")
    p99 = half and half.get("p99_confirm_ms")
    rows.append(row("POST -> CONFIRMED at half the sustained rate, p99 (p50)",
                    f"{fmt(p99, 1)} ms ({fmt(half and half.get('p50_confirm_ms'), 1)} ms)",
                    f"paced at {fmt(pace and pace['target_rate'])}/s, achieved {fmt(http_rate(half_http))}/s",
                    "< 100 ms", p99 is not None and p99 < 100, half and half["load"]))
    cpo = commits_per_order(figs, samples)
    per = cpo[0] / cpo[1] if cpo else None
    rows.append(row("PostgreSQL commits per order (orders + products DBs), sustained", fmt(per, 2),
                    f"{fmt(cpo and cpo[0])} commits / {fmt(cpo and cpo[1])} orders" if cpo else "n/a",
                    "<= 1.5", per is not None and per <= 1.5, sustained and sustained["load"]))
    argon2, login = first(figs, kind="argon2"), first(figs, kind="wrk", group="login")
    logins = http_rate(login)
    ratio = logins / argon2["rate"] if logins is not None and argon2 and argon2["rate"] else None
    rows.append(row("Login throughput (200/s, POST /api/auth/login via nginx)",
                    f"{fmt(logins)}/s = {fmt(ratio and ratio * 100, 1, ' %')} of raw",
                    f"raw argon2id {fmt(argon2 and argon2['rate'])} verifications/s "
                    f"({argon2['threads'] if argon2 else '?'} threads, {argon2['params'] if argon2 else '?'})",
                    ">= 90 % of raw", ratio is not None and ratio >= 0.9, login and login["load"]))
    for suffix, path in (("", "via nginx"), (", direct", "direct on products-service")):
        quiet = first(figs, kind="wrk", group="storm", label="catalog quiet" + suffix)
        storm = first(figs, kind="wrk", group="storm", label="catalog during login storm" + suffix)
        q, s = quiet and quiet["p99_ms"], storm and storm["p99_ms"]
        rows.append(row(f"Catalog p99 during the login storm (first page {path}, paced)", f"{fmt(s, 1)} ms",
                        f"quiet {fmt(q, 1)} ms", "<= 2x quiet", q is not None and s is not None and s <= 2 * q,
                        storm and storm["load"]))
    idle, loaded = memory(figs, samples)
    idle_load = (first(figs, kind="memory", name="idle") or {}).get("load")
    for name in ("auth", "products", "orders"):
        i, l = idle.get(name), loaded.get(name)
        rows.append(row(f"{name}-service memory idle (VmRSS)", fmt(i and i * 1024 / MB, 1, " MB"), "-", "< 30 MB",
                        i is not None and i * 1024 < 30 * MB, idle_load))
        rows.append(row(f"{name}-service memory under load (max VmRSS)", fmt(l and l * 1024 / MB, 1, " MB"), "-",
                        "< 100 MB", l is not None and l * 1024 < 100 * MB, None))
    checks = [f for f in figs if f["kind"] == "check"]
    passed = sum(c["ok"] for c in checks)
    rows.append(row("Correctness checks while loading (below)", f"{passed} of {len(checks)} passed", "-",
                    "all", bool(checks) and passed == len(checks), None))
    return rows
