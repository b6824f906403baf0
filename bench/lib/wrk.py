"""Parses one wrk output (with the ORDERS / LOGINS / PACED lines our Lua scripts print) into one
JSON figure.

    wrk.py <wrk output> <group> <label> <url> <load1> [<upstream requests>]  -> one JSON line
"""
import json
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    return round(float(m.group(1)) * UNITS[m.group(2)], 3) if m else None


def parse(text, group, label, url, load, upstream=None):
    out = {"kind": "wrk", "group": group, "label": label, "url": url, "load": float(load)}
    if upstream not in (None, ""):
        out["upstream"] = int(upstream)
    m = re.search(r"(\d+) threads? and (\d+) connections", text)
    out["connections"] = int(m.group(2)) if m else 0
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    out["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.M)
        out[f"p{pct}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([0-9.]+)(\w+)", text)
    out["requests"] = int(m.group(1)) if m else 0
    secs = ms(m.group(2) + m.group(3)) if m else None
    out["seconds"] = secs / 1000 if secs else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(map(int, m.groups())) if m else 0
    out["timeouts"] = int(m.group(4)) if m else 0
    # Our Lua scripts: "<WHAT> ok=N other=N server_errors=N codes=..." (ORDERS counts 201s as ok).
    m = re.search(r"^(ORDERS|LOGINS|PACED) ok=(\d+) other=(\d+) server_errors=(\d+) codes=(.*)$", text, re.M)
    if m:
        out["ok"], out["other"], out["server_errors"] = int(m.group(2)), int(m.group(3)), int(m.group(4))
        out["codes"] = " ".join(sorted(set(m.group(5).split())))
    return out


if __name__ == "__main__":
    path, *rest = sys.argv[1:]
    print(json.dumps(parse(open(path).read(), *rest)))
