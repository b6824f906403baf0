"""RESULTS.md's catalog section: every request of issue 12's table through nginx and direct, on
the seeded and the large catalog, with the large catalog's figures checked against issue 12's
targets.
"""
from targets import fmt

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


def median_run(runs):
    ordered = sorted(runs, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def groups_of(figs):
    groups = {}
    for f in figs:
        if f["kind"] == "wrk":
            groups.setdefault((f["group"], f["label"]), []).append(f)
    return groups


def section(figs, static_rps):
    w = ["## Catalog reads (GET, wrk, median of the runs)\n"]
    notes = [f for f in figs if f["kind"] == "note"]
    for n in notes:
        if n["name"] == "catalog_big":
            w.append(f"The large catalog was inserted with SQL (bench/lib/big_catalog.sql) in {n['insert_s']} s.\n")
    w.append("Through nginx, most requests are answered from its catalog cache; \"upstream /s\" is how many "
             "reached products-service per second (its own request counter, read before and after the run).\n")
    w.append("| Catalog | Query | Path | req/s (median) | runs | p50 ms | p99 ms | errors | vs nginx static | upstream /s | load avg |")
    w.append("|---|---|---|---|---|---|---|---|---|---|---|")
    groups = groups_of(figs)
    catalog_groups = []
    for (g, label), runs in groups.items():
        if not g.startswith("catalog"):
            continue
        if g not in catalog_groups:
            catalog_groups.append(g)
        m = median_run(runs)
        via = label.endswith(" via nginx")
        query = label[: -len(" via nginx")] if via else label.rpartition(" direct")[0]
        errors = sum(r["non2xx"] + r["socket_errors"] for r in runs)
        ratio = f"{m['rps'] / static_rps:.1%}" if static_rps else "n/a"
        upstream = (fmt(m["upstream"] / m["seconds"], 1) if m.get("upstream") is not None and m.get("seconds")
                    else "-")
        w.append(f"| {g.replace('catalog ', '')} | {query} | {'nginx' if via else 'direct'} | {fmt(m['rps'])} | "
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
    return w
