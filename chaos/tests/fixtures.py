"""A small settled state that keeps every promise, to be spoiled one way per test."""

from __future__ import annotations

import uuid

from harness.evidence import Effect, Freeze
from harness.observe import Facts, Observed, ProcFacts
from harness.poison import Poison
from harness.workload import OrderRecord

P1 = "00000000-0000-4000-8000-0000000000a1"
BUYER = "00000000-0000-4000-8000-00000000b001"
T0 = 1_800_000_000.0  # the orders' creation time (epoch seconds)


def oid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def event(event_type: str, order: str | None = None, **payload) -> dict:
    if order is not None:
        payload["order_id"] = order
    return {"event_id": str(uuid.uuid4()), "event_type": event_type, "payload": payload, "published": True}


def steps(*statuses, reason=None, at=T0 + 1) -> list[dict]:
    chain, previous = [], None
    for i, status in enumerate(statuses):
        chain.append({"from_status": previous, "to_status": status,
                      "reason": reason if i == len(statuses) - 1 else None, "at": at + i})
        previous = status
    return chain


def baseline() -> tuple[Observed, Facts]:
    """o1 PAID (2 units sold), o2 cancelled before products-service saw it (tombstone), o3 REJECTED
    out of stock, o4 EXPIRED (1 unit reserved, then released). P1: 10 units, 8 left, version 4."""
    orders = {
        oid(1): ("PAID", None, ("PENDING", "CONFIRMED", "PAID")),
        oid(2): ("CANCELLED", None, ("PENDING", "CANCELLED")),
        oid(3): ("REJECTED", "out_of_stock", ("PENDING", "REJECTED")),
        oid(4): ("EXPIRED", None, ("PENDING", "CONFIRMED", "EXPIRED")),
    }
    quantities = {oid(1): 2, oid(2): 1, oid(3): 20, oid(4): 1}
    orders_outbox = [event("order.placed", o) for o in orders]
    orders_outbox += [event("order.paid", oid(1)), event("order.cancelled", oid(2)), event("order.expired", oid(4))]
    products_outbox = [event("product.created", None, product_id=P1, version=1), event("stock.reserved", oid(1)),
                       event("stock.rejected", oid(3)), event("stock.reserved", oid(4)), event("stock.released", oid(4))]
    obs = Observed(
        orders={o: {"id": o, "user_id": BUYER, "status": status, "reason": reason, "version": len(chain),
                    "waiting": False, "created": T0}
                for o, (status, reason, chain) in orders.items()},
        items={o: {P1: q} for o, q in quantities.items()},
        history={o: steps(*chain, reason=reason) for o, (_, reason, chain) in orders.items()},
        reservations={
            oid(1): {"status": "sold", "lines": [{"product_id": P1, "quantity": 2}]},
            oid(2): {"status": "released", "lines": []},
            oid(3): {"status": "rejected", "lines": [{"product_id": P1, "quantity": 20}]},
            oid(4): {"status": "released", "lines": [{"product_id": P1, "quantity": 1}]},
        },
        products={P1: {"stock": 8, "version": 4, "deleted": False}},
        catalog={P1: {"stock": 10, "version": 1, "deleted": False}},
        orders_outbox=orders_outbox,
        products_outbox=products_outbox,
        products_inbox={e["event_id"] for e in orders_outbox},
        orders_inbox={e["event_id"] for e in products_outbox},
        idempotency=[{"response_status": 201, "order_id": o} for o in orders],
        dead_letters=[],
    )
    records = [OrderRecord(o, BUYER, [(P1, quantities[o])], "expire", T0) for o in orders]
    records[0].paid_ack = True
    facts = Facts(
        initial_stock={P1: 10},
        client_orders=records,
        gave_up_posts=0,
        client_errors=[],
        procs=[ProcFacts("products-service", True, True, [], 0, [1.2], "INFO started\n")],
        quiescent=True,
    )
    return obs, facts


def poison(stream: str = "orders_stream", outcome: str = "landed", generation: int = 0, entry_id: str = "1-0") -> Poison:
    return Poison(stream, "order.placed without lines", str(uuid.uuid4()), [], outcome, entry_id, generation)


def dead_letter_of(p: Poison, group: str | None = None, prefix: str = "chaos_1_2:") -> dict:
    group = group or {"orders_stream": "products-service", "inventory_stream": "orders-service"}[p.stream]
    return {"_id": "9-0", "event_id": p.event_id, "type": "order.placed", "origin_stream": prefix + p.stream,
            "origin_id": p.entry_id, "group": group, "attempts": "1", "error": "order.placed without lines"}


def freeze(start: float, length: float) -> Freeze:
    return Freeze("products", 4242, "UPDATE products ...", start, start + length)


__all__ = ["Effect", "baseline", "dead_letter_of", "event", "freeze", "oid", "poison", "steps", "P1", "T0"]
