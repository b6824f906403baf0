"""CHAOS_TAMPER=1: corrupts the settled state the way the bugs we look for would, so every
invariant about the state must fail; proves the checks can fail."""

from __future__ import annotations

import uuid

from resp import pairs

from .journal import log
from .observe import Facts
from .pg import literal
from .stack import DEAD_LETTER_STREAM, Stack


def tamper(stack: Stack, facts: Facts) -> None:
    o, p = stack.dbs["orders"], stack.dbs["products"]
    pg = stack.pg
    done = []
    pid = next(iter(facts.initial_stock))
    pg.run(p, f"UPDATE products SET stock = stock + 1 WHERE id = {literal(pid)}")
    done.append(f"+1 stock on {pid}")
    paid = pg.value(o, "SELECT id FROM orders WHERE status = 'PAID' LIMIT 1")
    if paid:
        # A fresh created_at, or the running pending-timeout sweeper would reject it before the
        # checks look (and the "stuck PENDING" check would then pass).
        pg.run(o, f"UPDATE orders SET status = 'PENDING', created_at = now() WHERE id = {literal(paid)}")
        done.append(f"order {paid} back to PENDING")
    pg.run(p, "DELETE FROM inbox WHERE event_id = (SELECT event_id FROM inbox LIMIT 1)")
    done.append("a products inbox row deleted")
    pg.run(p, "INSERT INTO outbox (stream, event_id, event_type, source, occurred_at, correlation_id, payload, published_at) "
              "SELECT stream, gen_random_uuid(), event_type, source, occurred_at, correlation_id, payload, now() "
              "FROM outbox WHERE event_type = 'stock.reserved' LIMIT 1")
    done.append("a stock decision duplicated")
    pg.run(o, f"INSERT INTO inbox (consumer, event_id) VALUES ('orders-service', {literal(str(uuid.uuid4()))})")
    done.append("an unknown event in the orders inbox")
    dead = stack.key(DEAD_LETTER_STREAM)
    stack.redis("XADD", dead, "*", "event_id", str(uuid.uuid4()), "type", "order.placed",
                "origin_stream", stack.key("orders_stream"), "error", "chaos tamper")
    done.append("a dead letter of a real-looking event added")
    poison_ids = {p.event_id for p in facts.poisons}
    for entry_id, fields in stack.redis("XRANGE", dead, "-", "+") or []:
        if pairs(fields).get("event_id") in poison_ids:
            stack.redis("XDEL", dead, entry_id)
            done.append(f"the dead letter of poison {pairs(fields)['event_id']} deleted")
            break
    if facts.freezes:
        start = min(f.stopped_at for f in facts.freezes)
        end = max(f.resumed_at or f.stopped_at for f in facts.freezes)
        moved = pg.run(o, f"""
            UPDATE order_status_history SET changed_at = changed_at + interval '1 hour'
             WHERE id = (SELECT h.id FROM order_status_history h JOIN orders o ON o.id = h.order_id
                          WHERE h.from_status = 'PENDING' AND h.to_status = 'CONFIRMED'
                            AND o.created_at BETWEEN to_timestamp({start}) AND to_timestamp({end})
                          LIMIT 1)
            RETURNING id""").split()
        moved = len(moved)
        done.append(f"{moved} answer during the freeze made an hour late")
    log("TAMPERED: " + "; ".join(done))
