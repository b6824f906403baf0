"""The promise, checked on the settled state: no order or stock change lost, doubled or stuck.
Pure functions of `Observed` and `Facts`; each returns a `Check`."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from .observe import Facts, Observed

FINAL = {"PAID", "CANCELLED", "REJECTED", "EXPIRED"}
ALLOWED = {(None, "PENDING"), ("PENDING", "CONFIRMED"), ("PENDING", "REJECTED"), ("PENDING", "CANCELLED"),
           ("CONFIRMED", "PAID"), ("CONFIRMED", "CANCELLED"), ("CONFIRMED", "EXPIRED")}


@dataclass
class Check:
    name: str
    failures: list[str]
    summary: str

    @property
    def ok(self) -> bool:
        return not self.failures


def orders_final(obs: Observed, facts: Facts) -> Check:
    failures = [] if facts.quiescent else ["the system never became quiescent (see above)"]
    for oid, order in obs.orders.items():
        if order["status"] == "PENDING":
            failures.append(f"order {oid} stuck PENDING")
        elif order["status"] == "CONFIRMED" and not order["waiting"]:
            failures.append(f"order {oid} CONFIRMED past its expiry")
        elif order["status"] not in FINAL | {"CONFIRMED"}:
            failures.append(f"order {oid} in unknown status {order['status']}")
    by_status = Counter(order["status"] for order in obs.orders.values())
    timeouts = sum(1 for o in obs.orders.values() if o["status"] == "REJECTED" and o["reason"] == "timeout")
    return Check("every order final or legitimately waiting; streams drained", failures,
                 f"{dict(sorted(by_status.items()))}, {timeouts} REJECTED by the pending timeout")


def acknowledged_durable(obs: Observed, facts: Facts) -> Check:
    failures = []
    client_ids = {r.order_id for r in facts.client_orders}
    for r in facts.client_orders:
        order = obs.orders.get(r.order_id)
        if order is None:
            failures.append(f"order {r.order_id} got 201 but is not in the database")
            continue
        if r.paid_ack and order["status"] != "PAID":
            failures.append(f"order {r.order_id}: payment got 200 but the order is {order['status']}")
        if r.cancel_ack and order["status"] != "CANCELLED":
            failures.append(f"order {r.order_id}: cancel got 200 but the order is {order['status']}")
    unknown = [oid for oid in obs.orders if oid not in client_ids]
    if len(unknown) > facts.gave_up_posts:
        failures.append(f"{len(unknown)} orders the client never got (only {facts.gave_up_posts} requests gave up): {unknown[:5]}")
    key_orders = Counter(k["order_id"] for k in obs.idempotency if k["order_id"])
    for oid in obs.orders:
        if key_orders.get(oid, 0) != 1:
            failures.append(f"order {oid} is not the result of exactly one Idempotency-Key (found {key_orders.get(oid, 0)})")
    failures += [f"unexpected 4xx: {e}" for e in facts.client_errors[:5]]
    paid = sum(r.paid_ack for r in facts.client_orders)
    cancelled = sum(r.cancel_ack for r in facts.client_orders)
    return Check("acknowledged orders, payments and cancellations are durable, none doubled", failures,
                 f"{len(facts.client_orders)} orders acknowledged, {paid} payments, {cancelled} cancellations; "
                 f"{facts.gave_up_posts} POSTs gave up")


def reservations_agree(obs: Observed, facts: Facts) -> Check:
    failures = []
    for oid, order in obs.orders.items():
        lines = obs.items.get(oid, {})
        res = obs.reservations.get(oid)
        status = order["status"]
        if res is None:
            failures.append(f"order {oid} ({status}): products-service never saw it (no reservation row)")
            continue
        res_lines = {line["product_id"]: line["quantity"] for line in res["lines"]}
        expected = {"CONFIRMED": {"reserved"}, "PAID": {"sold"}}.get(status, {"released", "rejected"})
        if res["status"] not in expected:
            failures.append(f"order {oid} is {status} but its reservation is {res['status']}")
        if res["status"] in ("reserved", "sold", "rejected") and res_lines != lines:
            failures.append(f"order {oid}: reservation lines {res_lines} differ from order lines {lines}")
        if res["status"] == "released" and res_lines and res_lines != lines:
            failures.append(f"order {oid}: released lines {res_lines} differ from order lines {lines}")
        timed_out = status == "REJECTED" and order["reason"] == "timeout"
        if res["status"] == "released" and not res_lines and status != "CANCELLED" and not timed_out:
            failures.append(f"order {oid} is {status} ({order['reason']}) but products-service has only a release tombstone")
        if status == "REJECTED" and not timed_out and res["status"] != "rejected":
            failures.append(f"order {oid} was rejected by the inventory ({order['reason']}) but its reservation is {res['status']}")
        if res["status"] == "rejected" and status not in ("REJECTED", "CANCELLED"):
            failures.append(f"order {oid} is {status} but products-service rejected it")
    for oid in obs.reservations:
        if oid not in obs.orders:
            failures.append(f"reservation for unknown order {oid}")
    counts = Counter(r["status"] for r in obs.reservations.values())
    return Check("orders and reservations agree (CONFIRMED=reserved, PAID=sold, others hold nothing)", failures,
                 f"reservations {dict(sorted(counts.items()))}")


def stock_conserved(obs: Observed, facts: Facts) -> Check:
    failures = []
    held: dict[str, int] = defaultdict(int)
    moves: dict[str, int] = defaultdict(int)
    for res in obs.reservations.values():
        for line in res["lines"]:
            if res["status"] in ("reserved", "sold"):
                held[line["product_id"]] += line["quantity"]
                moves[line["product_id"]] += 1
            elif res["status"] == "released":
                moves[line["product_id"]] += 2
    held_by_orders: dict[str, int] = defaultdict(int)
    for oid, order in obs.orders.items():
        if order["status"] in ("CONFIRMED", "PAID"):
            for pid, q in obs.items.get(oid, {}).items():
                held_by_orders[pid] += q
    for pid, initial in facts.initial_stock.items():
        row = obs.products.get(pid)
        if row is None:
            failures.append(f"product {pid} vanished")
            continue
        if row["stock"] < 0:
            failures.append(f"product {pid}: negative stock {row['stock']}")
        if initial != row["stock"] + held[pid]:
            failures.append(f"product {pid}: initial {initial} != stock {row['stock']} + held/sold by reservations {held[pid]}")
        if initial != row["stock"] + held_by_orders[pid]:
            failures.append(f"product {pid}: initial {initial} != stock {row['stock']} + units of CONFIRMED/PAID orders {held_by_orders[pid]}")
        if row["version"] != 1 + moves[pid]:
            failures.append(f"product {pid}: version {row['version']} but {moves[pid]} stock movements recorded (a movement applied twice or lost)")
    return Check("stock conserved: initial = stock + reserved + sold; never negative; each movement once", failures,
                 f"{len(facts.initial_stock)} products, {sum(facts.initial_stock.values())} units initially, "
                 f"{sum(held[p] for p in facts.initial_stock)} held or sold")


def history_chains(obs: Observed, facts: Facts) -> Check:
    failures = []
    for oid, order in obs.orders.items():
        chain = obs.history.get(oid, [])
        current = None
        for step in chain:
            if step["from_status"] != current or (step["from_status"], step["to_status"]) not in ALLOWED:
                failures.append(f"order {oid}: history {[(h['from_status'], h['to_status']) for h in chain]}")
                break
            current = step["to_status"]
        else:
            if current != order["status"] or order["version"] != len(chain):
                failures.append(f"order {oid}: status {order['status']} v{order['version']} but history ends {current} after {len(chain)} rows")
    return Check("each order's history is one valid chain (no transition doubled)", failures,
                 f"{sum(len(h) for h in obs.history.values())} history rows")


def events_handled(obs: Observed, facts: Facts) -> Check:
    failures = []
    placed = Counter(e["payload"]["order_id"] for e in obs.orders_outbox if e["event_type"] == "order.placed")
    decisions = Counter(e["payload"]["order_id"] for e in obs.products_outbox
                        if e["event_type"] in ("stock.reserved", "stock.rejected"))
    for oid in obs.orders:
        if placed[oid] != 1:
            failures.append(f"order {oid}: {placed[oid]} order.placed events in the outbox")
        res = obs.reservations.get(oid)
        want = 0 if res is not None and res["status"] == "released" and not res["lines"] else 1
        if decisions[oid] != want:
            failures.append(f"order {oid}: {decisions[oid]} stock decisions (expected {want}; reservation {res and res['status']})")
    for oid in decisions:
        if oid not in obs.orders:
            failures.append(f"stock decision for unknown order {oid}")
    for side, outbox, inbox, consumer in (("orders", obs.orders_outbox, obs.products_inbox, "products-service"),
                                          ("products", obs.products_outbox, obs.orders_inbox, "orders-service")):
        for e in outbox:
            if not e["published"]:
                failures.append(f"{side} outbox {e['event_type']} {e['event_id']} never published")
            elif e["event_id"] not in inbox:
                failures.append(f"{e['event_type']} {e['event_id']} ({e['payload']}) never handled by {consumer}")
    return Check("one decision per order.placed; every event published and handled", failures,
                 f"{len(obs.orders_outbox)} order events, {len(obs.products_outbox)} inventory events, "
                 f"{sum(decisions.values())} decisions")


def only_real_events_applied(obs: Observed, facts: Facts) -> Check:
    """Each inbox (the record of what a consumer applied) holds only events of the other side's
    outbox: no poison entry, nothing invented, nothing from another run."""
    failures = []
    poison = {p.event_id: p for p in facts.poisons}
    for inbox, outbox, consumer in ((obs.products_inbox, obs.orders_outbox, "products-service"),
                                    (obs.orders_inbox, obs.products_outbox, "orders-service")):
        known = {e["event_id"] for e in outbox}
        for event_id in sorted(inbox - known):
            what = f"poison entry ({poison[event_id].kind})" if event_id in poison else "no such event in the producer's outbox"
            failures.append(f"{consumer} applied {event_id}: {what}")
    return Check("each consumer applied only real events (inbox within the producer's outbox)", failures,
                 f"{len(obs.products_inbox)} + {len(obs.orders_inbox)} inbox rows, all from the outboxes")


def catalog_converged(obs: Observed, facts: Facts) -> Check:
    """orders' copy holds the last listing event products-service published for each product
    (stock movements publish none: the copy does not read the stock)."""
    failures = []
    published: dict[str, int] = {}
    for e in obs.products_outbox:
        if e["event_type"] in ("product.created", "product.updated", "product.deleted"):
            pid = e["payload"].get("product_id")
            published[pid] = max(published.get(pid, 0), e["payload"].get("version", 0))
    for pid in facts.initial_stock:
        row, copy = obs.products.get(pid), obs.catalog.get(pid)
        if row and (copy is None or copy["version"] != published.get(pid) or copy["deleted"] != row["deleted"]):
            failures.append(f"product {pid}: last published v{published.get(pid)}, deleted {row['deleted']}; "
                            f"orders' copy {copy and (copy['version'], copy['deleted'])}")
    return Check("orders' catalog copy converged", failures, f"{len(facts.initial_stock)} products match")


STATE_CHECKS = (orders_final, acknowledged_durable, reservations_agree, stock_conserved, history_chains,
                events_handled, only_real_events_applied, catalog_converged)
