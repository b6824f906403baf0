"""What the invariants look at: the settled state, read once from both databases and Redis
(`Observed`), and what the runner itself did and saw (`Facts`). Plain data, so the invariants
are pure functions that tests can feed crafted values."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from resp import pairs

from .poison import Poison
from .stack import DEAD_LETTER_STREAM, Stack


@dataclass
class Observed:
    orders: dict[str, dict]  # id -> id, user_id, status, reason, version, waiting, created (epoch)
    items: dict[str, dict[str, int]]  # order id -> product id -> quantity
    history: dict[str, list[dict]]  # order id -> [{from_status, to_status, reason, at}] in order
    reservations: dict[str, dict]  # order id -> status, lines
    products: dict[str, dict]  # id -> stock, version, deleted
    catalog: dict[str, dict]  # product id -> stock, version, deleted
    orders_outbox: list[dict]  # event_id, event_type, payload, published
    products_outbox: list[dict]
    products_inbox: set[str]
    orders_inbox: set[str]
    idempotency: list[dict]  # response_status, order_id
    dead_letters: list[dict]  # the entry's fields, plus "_id"


@dataclass
class ProcFacts:
    name: str
    service: bool
    alive: bool
    crashes: list[str]
    startup_failures: int
    term_waits: list[float]
    log: str


@dataclass
class Facts:
    initial_stock: dict[str, int]  # product id -> units at the start
    client_orders: list  # workload.OrderRecord
    gave_up_posts: int
    client_errors: list[str]
    procs: list[ProcFacts]
    quiescent: bool
    poisons: list[Poison] = field(default_factory=list)
    generation: int = 0  # Redis wipes so far: poison entries of older generations are gone
    freezes: list = field(default_factory=list)  # faults.Freeze
    progress_limit: float = 0.0
    effects: list = field(default_factory=list)  # faults.Effect
    expected_effects: dict[str, int] = field(default_factory=dict)
    harness_errors: list[str] = field(default_factory=list)


def observe(stack: Stack) -> Observed:
    o, p = stack.dbs["orders"], stack.dbs["products"]
    rows = stack.pg.rows
    items: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows(o, "SELECT order_id, product_id, quantity FROM order_items"):
        items[r["order_id"]][r["product_id"]] = r["quantity"]
    history: dict[str, list[dict]] = defaultdict(list)
    for r in rows(o, "SELECT order_id, from_status, to_status, reason, extract(epoch FROM changed_at)::float8 AS at "
                     "FROM order_status_history ORDER BY id"):
        history[r["order_id"]].append(r)
    outbox = "SELECT event_id, event_type, payload, published_at IS NOT NULL AS published FROM outbox"
    dead = stack.redis("XRANGE", stack.key(DEAD_LETTER_STREAM), "-", "+") or []
    return Observed(
        orders={r["id"]: r for r in rows(o, "SELECT id, user_id, status, reason, version, expires_at > now() AS waiting, "
                                            "extract(epoch FROM created_at)::float8 AS created FROM orders")},
        items=dict(items),
        history=dict(history),
        reservations={r["order_id"]: r for r in rows(p, "SELECT order_id, status, lines FROM reservations")},
        products={r["id"]: r for r in rows(p, "SELECT id, stock, version, deleted_at IS NOT NULL AS deleted FROM products")},
        catalog={r["product_id"]: r for r in rows(o, "SELECT product_id, stock, version, deleted FROM catalog_products")},
        orders_outbox=rows(o, outbox),
        products_outbox=rows(p, outbox),
        products_inbox={r["event_id"] for r in rows(p, "SELECT event_id FROM inbox")},
        orders_inbox={r["event_id"] for r in rows(o, "SELECT event_id FROM inbox")},
        idempotency=rows(o, "SELECT response_status, response_body->>'id' AS order_id FROM idempotency_keys"),
        dead_letters=[{**pairs(fields), "_id": entry_id} for entry_id, fields in dead],
    )
