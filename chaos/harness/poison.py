"""Poison entries: stream entries no handler can apply (an undecodable envelope, or a known type
whose payload cannot be decoded or breaks an invariant). XADDed straight onto the streams while
the workload runs; each must end in the dead-letter stream, and nothing else may."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field

# (kind, builder of (type, payload text) or of the whole field list) per stream.
KINDS = {
    "orders_stream": (
        "undecodable envelope (payload not JSON)",
        "order.placed without lines",
        "order.cancelled with an order_id that is no UUID",
    ),
    "inventory_stream": (
        "undecodable envelope (no type, bad occurred_at)",
        "stock.reserved without order_id",
        "product.updated missing its fields",
    ),
}
OCCURRED_AT = "2026-01-01T00:00:00Z"


@dataclass
class Poison:
    stream: str  # logical name
    kind: str
    event_id: str
    fields: list[tuple[str, str]]
    outcome: str = "planned"  # landed | uncertain | failed
    entry_id: str | None = None  # the XADD reply
    generation: int | None = None  # which incarnation of Redis data it landed in
    history: list[str] = field(default_factory=list)


def envelope(event_id: str, event_type: str | None, payload: str, occurred_at: str = OCCURRED_AT) -> list[tuple[str, str]]:
    fields = [("event_id", event_id)]
    if event_type is not None:
        fields.append(("type", event_type))
    fields += [("source", "chaos"), ("occurred_at", occurred_at),
               ("correlation_id", f"chaos-poison-{event_id[:8]}"), ("payload", payload)]
    return fields


def make(stream: str, kind: str, rng: random.Random) -> Poison:
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    some_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind == KINDS["orders_stream"][0]:
        fields = envelope(event_id, "order.placed", '{"order_id": ')
    elif kind == KINDS["orders_stream"][1]:
        payload = {"order_id": some_id, "user_id": some_id, "lines": []}
        fields = envelope(event_id, "order.placed", json.dumps(payload))
    elif kind == KINDS["orders_stream"][2]:
        fields = envelope(event_id, "order.cancelled", json.dumps({"order_id": "not-a-uuid"}))
    elif kind == KINDS["inventory_stream"][0]:
        fields = envelope(event_id, None, json.dumps({"order_id": some_id}), occurred_at="yesterday")
    elif kind == KINDS["inventory_stream"][1]:
        fields = envelope(event_id, "stock.reserved", json.dumps({"lines": []}))
    elif kind == KINDS["inventory_stream"][2]:
        fields = envelope(event_id, "product.updated", json.dumps({"product_id": some_id, "stock": "many"}))
    else:
        raise ValueError(f"unknown poison kind {kind!r}")
    return Poison(stream, kind, event_id, fields)


def batch(count: int, rng: random.Random) -> list[Poison]:
    """`count` poison entries alternating between the two streams, each stream cycling through
    its kinds, so six cover every kind once."""
    out = []
    for i in range(count):
        stream = ("orders_stream", "inventory_stream")[i % 2]
        kinds = KINDS[stream]
        out.append(make(stream, kinds[(i // 2) % len(kinds)], rng))
    return out
