"""Writes bench/RESULTS.md from the run's figures (figures.jsonl) and per-second samples.

    report.py results <figures.jsonl> <samples.jsonl> <RESULTS.md> <started> <finished> <rust_log> \
              <build profile> <connections> <buyers> <products> <order_seconds> <orders_pool>

Everything above the marker line is generated; everything from the marker on (the hand-written
analysis) is kept when the file is rewritten.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

import catalog_report
import orders_report
from procs import others
from targets import MB, first, fmt, headline, http_rate, memory

MARKER = "<!-- Everything below this line is written by hand and kept when bench/run rewrites this file. -->"
PLACEHOLDER = "\n\n## Analysis\n\n(Written by hand after the run: what limits each figure, what the profiles show.)\n"


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


def kept_analysis(out_path):
    """The hand-written part of the file being replaced, from the marker on."""
    try:
        with open(out_path) as f:
            text = f.read()
    except OSError:
        return MARKER + PLACEHOLDER
    return text[text.index(MARKER):] if MARKER in text else MARKER + PLACEHOLDER


def headline_section(figs, samples):
    w = ["## Headline (issue 11): each figure beside its same-run ceiling and target\n",
         "| Figure | Measured | Same-run ceiling | Target | Met | Load avg before |", "|---|---|---|---|---|---|"]
    for r in headline(figs, samples):
        w.append(f"| {r['figure']} | {r['measured']} | {r['ceiling']} | {r['target']} | "
                 f"{'pass' if r['met'] else '**miss**'} | {'-' if r['load'] is None else r['load']} |")
    return w + [""]


def checks_section(figs):
    w = ["## Correctness checks (made by the run; a failed one fails it)\n", "| Check | Result | Detail |", "|---|---|---|"]
    for c in (f for f in figs if f["kind"] == "check"):
        w.append(f"| {c['name']} | {'pass' if c['ok'] else '**FAIL**'} | {c['detail']} |")
    return w + [""]


def limits_section(figs, static_rps):
    w = ["## Machine limits (same run)\n", "| Baseline | Figure | Load avg before |", "|---|---|---|"]
    for f in figs:
        if f["kind"] == "redis":
            w.append(f"| redis-benchmark {f['name']} | {fmt(f['rps'])} ops/s (p50 {f['p50_ms']} ms) | {f['load']} |")
        elif f["kind"] == "pgbench":
            w.append(f"| pgbench {f['name']} | {fmt(f['tps'])} tps (avg latency {f['latency_ms']} ms) | {f['load']} |")
        elif f["kind"] == "argon2":
            w.append(f"| raw argon2id verifications ({f['params']}, {f['threads']} threads, {f['seconds']} s; "
                     f"auth-service/examples/argon2_rate.rs) | {fmt(f['rate'], 1)} /s | {f['load']} |")
    static = [f for f in figs if f["kind"] == "wrk" and f["group"] == "static"]
    if static:
        m = catalog_report.median_run(static)
        w.append(f"| nginx static `/favicon.svg` (wrk, median) | {fmt(static_rps)} req/s (p50 {m['p50_ms']} ms, "
                 f"p99 {m['p99_ms']} ms; runs: {', '.join(fmt(r['rps']) for r in static)}) | "
                 f"{', '.join(str(r['load']) for r in static)} |")
    return w + [""]


def login_section(figs):
    login = first(figs, kind="wrk", group="login")
    storm = [f for f in figs if f["kind"] == "wrk" and f["group"] == "storm"]
    if not login and not storm:
        return []
    w = ["## Login storm\n", "| Load | Load avg before | Answered | OK/s | p50 / p99 | Other answers | Socket errors |",
         "|---|---|---|---|---|---|---|"]
    for f in ([login] if login else []) + storm:
        w.append(f"| {f['label']} ({f['url'].split('/', 3)[-1]}) | {f['load']} | {fmt(f['rps'])} req/s | "
                 f"{fmt(http_rate(f))} | {f['p50_ms']} / {f['p99_ms']} ms | {f.get('other', 0):,} "
                 f"({f.get('codes') or 'none'}) | {f['socket_errors']} |")
    return w + [""]


def memory_section(figs, samples):
    idle, loaded = memory(figs, samples)
    if not idle and not loaded:
        return []
    w = ["## Memory (VmRSS)\n", "Idle: just after start-up, before any load. Under load: the largest of the "
         "per-second samples over the order and login phases (and after the catalog reads).\n",
         "| Service | Idle | Under load |", "|---|---|---|"]
    for name in ("auth", "products", "orders", "nginx"):
        w.append(f"| {name} | {fmt(idle.get(name) and idle[name] * 1024 / MB, 1, ' MB')} | "
                 f"{fmt(loaded.get(name) and loaded[name] * 1024 / MB, 1, ' MB')} |")
    return w + [""]


def else_section(figs, started, finished):
    a, b = first(figs, kind="procs", name="start"), first(figs, kind="procs", name="end")
    w = ["## What else ran\n"]
    if a and b:
        busy = others(a["cpu"], b["cpu"], b["t"] - a["t"])
        w.append(f"Load average at the start {a['load']}, at the end {b['load']}. Other programs' CPU over the run "
                 f"(from /proc at both ends; short-lived processes are missed, the samples' \"everything else\" "
                 f"counts them): " + (", ".join(f"{c} {u:.2f} cores" for c, u in busy) or "none above 0.01 cores") + ".\n")
    return w


def profiles_section(figs):
    profiles = [f for f in figs if f["kind"] == "profile"]
    if not profiles:
        return []
    w = ["## Profiles (BENCH_PROFILE=1: `perf record -g -F 499` during the sustained run)\n",
         "Self time by shared object and symbol (`perf report --no-children`), the top lines:\n"]
    for p in profiles:
        w += [f"{p['name']}:\n", "```\n" + p["top"].rstrip() + "\n```\n"]
    return w


def results(figures_path, samples_path, out_path, started, finished, rust_log, profile, conns, buyers, products,
            order_s, orders_pool="default"):
    figs = [json.loads(line) for line in open(figures_path) if line.strip()]
    samples = ([json.loads(line) for line in open(samples_path) if line.strip()]
               if os.path.exists(samples_path) else [])
    commit = sh("git", "rev-parse", "--short", "HEAD")
    dirty = sh("git", "status", "--porcelain", "--", "auth-service", "products-service", "orders-service",
               "stream-lib", "web-kit", "auth-kit", "Cargo.lock")
    day = datetime.datetime.fromtimestamp(int(started), datetime.timezone.utc)
    static = [f for f in figs if f["kind"] == "wrk" and f["group"] == "static"]
    static_rps = catalog_report.median_run(static)["rps"] if static else None
    w = ["# Benchmark results\n",
         f"Written by `bench/run` (see bench/README.md for what each number means). Run {day:%Y-%m-%d %H:%M} UTC, "
         f"{int(finished) - int(started)} s, commit `{commit}`{' with uncommitted service changes' if dirty else ''}.  ",
         f"Machine: {machine()}, shared: every figure carries the 1-minute load average taken just before it (it "
         f"includes this run's own previous phase). Services: {profile} build, `RUST_LOG={rust_log}`, one process "
         f"each, orders-service `DATABASE_MAX_CONNECTIONS={orders_pool}`, PostgreSQL 15 and Redis 7 shared with "
         f"everything else on the machine; load generators (wrk, 1 thread) on the same cores.\n"]
    w += headline_section(figs, samples)
    w += checks_section(figs)
    w += limits_section(figs, static_rps)
    w += orders_report.section(figs, samples, buyers, products, conns, order_s)
    w += login_section(figs)
    w += memory_section(figs, samples)
    w += catalog_report.section(figs, static_rps)
    w += profiles_section(figs)
    w += else_section(figs, started, finished)
    analysis = kept_analysis(out_path)
    with open(out_path, "w") as f:
        f.write("\n".join(w) + "\n" + analysis)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "results":
        results(*sys.argv[2:14])
    else:
        raise SystemExit(__doc__)
