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
import socket
import subprocess
import sys
import time

from procs import TICK, parse_pids, processes, rss_kb

PG, ORDERS_DB, PRODUCTS_DB, PREFIX, PIDS = sys.argv[1:6]
RUN_ID = PREFIX.rstrip(":")
PIDS = parse_pids(PIDS)
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


class Redis:
    """A minimal RESP client on one socket (no redis-cli process per sample)."""

    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", 6379))
        self.file = self.sock.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.file.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return None  # e.g. no such key yet
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"unexpected RESP {line!r}")


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2])) if flat else {}


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
    r = Redis()
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
            info = pairs(r.cmd("XINFO", "STREAM", PREFIX + stream))
            sample[stream + "_added"] = int(info.get("entries-added", 0) or 0)
            sample[stream + "_len"] = int(info.get("length", 0) or 0)
            for g in r.cmd("XINFO", "GROUPS", PREFIX + stream) or []:
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
