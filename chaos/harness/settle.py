"""Quiescence: after the faults, wait until nothing is in flight (no PENDING or CONFIRMED order,
no unpublished outbox row, every group caught up with nothing pending or waiting for a retry)
and two snapshots in a row are equal."""

from __future__ import annotations

import time

from resp import pairs

from .journal import log
from .stack import STREAMS, Stack


def stream_state(stack: Stack) -> dict:
    redis = stack.redis
    retry_keys = redis.scan(f"*{stack.prefix}*retries*")
    state = {}
    for stream, group in STREAMS.items():
        key = stack.key(stream)
        info = pairs(redis("XINFO", "STREAM", key))
        groups = [pairs(g) for g in redis("XINFO", "GROUPS", key)]
        state[stream] = {
            "length": info["length"],
            "last": info["last-generated-id"],
            "expected_group": group,
            "groups": [
                {
                    "name": g["name"],
                    "pending": g["pending"],
                    "lag": g.get("lag"),
                    "behind": g["last-delivered-id"] != info["last-generated-id"],
                    "retries": sum(redis("ZCARD", k) for k in retry_keys if stream in k and g["name"] in k),
                }
                for g in groups
            ],
        }
    return state


def snapshot(stack: Stack) -> dict:
    o, p = stack.dbs["orders"], stack.dbs["products"]
    pg = stack.pg
    return {
        "statuses": {r["status"]: r["n"] for r in pg.rows(o, "SELECT status, count(*) AS n FROM orders GROUP BY status")},
        "unpublished_orders": pg.value(o, "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
        "unpublished_products": pg.value(p, "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
        "streams": stream_state(stack),
    }


def busy(snap: dict) -> list[str]:
    """Why `snap` is not quiet yet (empty: quiet)."""
    why = []
    for status in ("PENDING", "CONFIRMED"):
        if snap["statuses"].get(status):
            why.append(f"{snap['statuses'][status]} {status}")
    for side in ("orders", "products"):
        if snap[f"unpublished_{side}"]:
            why.append(f"{snap[f'unpublished_{side}']} unpublished {side} outbox rows")
    for stream, s in snap["streams"].items():
        if s["expected_group"] not in [g["name"] for g in s["groups"]]:
            why.append(f"{stream} has no group {s['expected_group']}")
        for g in s["groups"]:
            if g["pending"] or g["behind"] or g["retries"] or g["lag"] not in (0, None):
                why.append(f"{stream}/{g['name']}: pending {g['pending']}, lag {g['lag']}, retries {g['retries']}")
    return why


def quiesce(stack: Stack, patience: float) -> tuple[bool, float]:
    """(quiescent, seconds waited)."""
    log(f"waiting for quiescence (up to {patience:.0f} s)")
    start = time.monotonic()
    previous, last_report = None, 0.0
    while True:
        stack.supervisor.once()
        try:
            snap = snapshot(stack)
            why = busy(snap)
        except Exception as error:  # Redis restarting, say
            snap, why = None, [f"snapshot failed: {error}"]
        elapsed = time.monotonic() - start
        if not why and snap == previous:
            log(f"quiescent after {elapsed:.0f} s: {snap['statuses']}")
            return True, elapsed
        previous = snap if not why else None
        if elapsed > patience:
            log(f"NOT quiescent after {elapsed:.0f} s: {'; '.join(why)}")
            return False, elapsed
        if elapsed - last_report > 15:
            last_report = elapsed
            log(f"  still busy: {'; '.join(why) or 'settling'}")
        stack.supervisor.run_for(1.0)
