"""Samples the order pipeline once a second until SIGTERM, one JSON object per line on stdout:
orders by status (orders DB), reservations (products DB), unpublished outbox rows (both DBs),
entries added to each stream and each group's entries-read / pending / lag (Redis), the load
average, each service's resident memory (VmRSS), and the CPU seconds used so far by each
component (from /proc): the services, nginx,
wrk, redis-server, PostgreSQL backends of this run's databases vs all other postgres processes
(background writers, other people's databases), and the whole machine's busy time.

    sampler.py <pg_base_url> <orders_db> <products_db> <redis_prefix> <name=pid,...>
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from procs import TICK, parse_pids, processes, rss_kb

sys.path.append(str(Path(__file__).resolve().parents[2] / "scripts"))
from resp import RedisReplyError, Resp, pairs  # noqa: E402  (scripts/resp, shared with chaos/)

PG, ORDERS_DB, PRODUCTS_DB, PREFIX, PIDS = sys.argv[1:6]
RUN_ID = PREFIX.rstrip(":")
PIDS = parse_pids(PIDS)
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def psql(db, sql):
    out = subprocess.run(["psql", f"{PG}/{db}", "-XAtqc", sql], capture_output=True, text=True)
    return out.stdout.strip()


def cpu_seconds():
    """Per component: utime+stime of the process (with its threads), postgres and redis summed."""
    names = list(PIDS) + ["postgres (this run)", "postgres (others)", "redis", "wrk"]
    usage = {name: {} for name in names}
    for pid, comm, ppid, secs in processes():
        entry = str(pid)
        for name, p in PIDS.items():
            if pid == p or (name == "nginx" and ppid == p):
                usage[name][entry] = secs
        if comm == "postgres":
            # A backend's title names its database: ours start with the run id.
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    title = f.read().decode(errors="replace")
            except OSError:
                title = ""
            usage["postgres (this run)" if RUN_ID in title else "postgres (others)"][entry] = secs
        elif comm.startswith("redis-server"):
            usage["redis"][entry] = secs
        elif comm == "wrk":
            usage["wrk"][entry] = secs
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    usage["machine busy"] = {"all": (sum(cpu) - cpu[3] - cpu[4]) / TICK}  # all but idle and iowait
    return usage


def main():
    redis = Resp(6379)

    def ask(*args):
        """The reply, or None for an error reply (a stream that does not exist yet)."""
        try:
            return redis(*args)
        except RedisReplyError:
            return None
    while not stop:
        t = time.time()
        sample = {"t": t, "load1": os.getloadavg()[0]}
        rows = psql(ORDERS_DB, "SELECT status, count(*) FROM orders GROUP BY 1 UNION ALL "
                    "SELECT 'outbox_unpublished', count(*) FROM outbox WHERE published_at IS NULL UNION ALL "
                    "SELECT 'commits', xact_commit FROM pg_stat_database WHERE datname = current_database()")
        for line in rows.splitlines():
            k, v = line.split("|")
            sample["orders_" + k] = int(v)
        rows = psql(PRODUCTS_DB, "SELECT status, count(*) FROM reservations GROUP BY 1 UNION ALL "
                    "SELECT 'outbox_unpublished', count(*) FROM outbox WHERE published_at IS NULL UNION ALL "
                    "SELECT 'commits', xact_commit FROM pg_stat_database WHERE datname = current_database()")
        for line in rows.splitlines():
            k, v = line.split("|")
            sample["products_" + k] = int(v)
        for stream in ("orders_stream", "inventory_stream"):
            info = pairs(ask("XINFO", "STREAM", PREFIX + stream) or [])
            sample[stream + "_added"] = int(info.get("entries-added", 0) or 0)
            sample[stream + "_len"] = int(info.get("length", 0) or 0)
            for g in ask("XINFO", "GROUPS", PREFIX + stream) or []:
                g = pairs(g)
                sample[stream + "_read"] = int(g.get("entries-read") or 0)
                sample[stream + "_pending"] = int(g.get("pending") or 0)
                sample[stream + "_lag"] = g.get("lag")
        sample["cpu"] = cpu_seconds()
        sample["rss_kb"] = rss_kb(PIDS)
        print(json.dumps(sample), flush=True)
        delay = 1.0 - (time.time() - t)
        while delay > 0 and not stop:
            time.sleep(min(delay, 0.1))
            delay = 1.0 - (time.time() - t)


if __name__ == "__main__":
    main()
