"""Processes seen through /proc: what else ran (CPU seconds used so far by every process on the
machine, summed by command name, so that two snapshots, at the start and end of the run, say
which other programs took CPU meanwhile; processes that started and ended in between are not
seen, the samples' "everything else" is) and the services' resident memory.

    procs.py snapshot <name> <load1>        -> {"kind": "procs", "name", "t", "load", "cpu": {command: s}}
    procs.py memory <name> <load1> <name=pid,...>  -> {"kind": "memory", "name", "load", "rss_kb": {...}}
"""
import json
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def processes():
    """(pid, command, parent pid, CPU seconds of user + system time) of every process now."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        yield int(entry), stat[stat.index("(") + 1 : stat.rindex(")")], int(fields[1]), \
            (int(fields[11]) + int(fields[12])) / TICK


def snapshot():
    out = {}
    for _, comm, _, secs in processes():
        out[comm] = out.get(comm, 0.0) + secs
    return out


# The run's own programs (and the shared servers it loads, measured apart): not "something
# else". A build (cargo, rustc) during the run is somebody else's and is listed.
OURS = {"auth-service", "products-servic", "orders-service", "nginx", "wrk", "postgres", "redis-server",
        "redis-benchmark", "pgbench", "psql", "python3", "argon2_rate", "curl", "bash"}


def others(before, after, seconds, top=8):
    """[(command, cores used)] of the busiest other programs between two snapshots."""
    used = {c: (after[c] - before.get(c, 0.0)) / max(seconds, 1e-9) for c in after if c not in OURS}
    return sorted(((c, u) for c, u in used.items() if u >= 0.01), key=lambda x: -x[1])[:top]


def rss_kb(pids):
    """VmRSS of each named process (nginx: master and workers summed), in KiB."""
    out = {}
    for pid, _, ppid, _ in processes():
        for name, p in pids.items():
            if pid != p and not (name == "nginx" and ppid == p):
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            except (OSError, ValueError):
                continue
            out[name] = out.get(name, 0) + kb
    return out


def parse_pids(text):
    return {k: int(v) for k, v in (kv.split("=") for kv in text.split(",") if kv)}


if __name__ == "__main__":
    cmd, name, load = sys.argv[1:4]
    if cmd == "snapshot":
        print(json.dumps({"kind": "procs", "name": name, "t": time.time(), "load": float(load), "cpu": snapshot()}))
    elif cmd == "memory":
        print(json.dumps({"kind": "memory", "name": name, "load": float(load), "rss_kb": rss_kb(parse_pids(sys.argv[4]))}))
    else:
        raise SystemExit(__doc__)
