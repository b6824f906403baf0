-- Per-buyer bookkeeping for MAX_OPEN_ORDERS_PER_BUYER. A placement takes its buyer's row in the
-- order INSERT itself (db/orders.rs): the row lock serialises one buyer's placements, `placed`
-- counts them, and `open_at_most` is an upper bound on the buyer's PENDING and CONFIRMED orders
-- (each placement adds one; nothing else writes the row, so closing an order never waits on it).
-- When the bound reaches the cap, the placement counts the open orders again.
CREATE TABLE buyer_order_counts (
    user_id      UUID   PRIMARY KEY,
    placed       BIGINT NOT NULL,
    open_at_most BIGINT NOT NULL
);

INSERT INTO buyer_order_counts (user_id, placed, open_at_most)
SELECT user_id, 0, count(*) FILTER (WHERE status IN ('PENDING', 'CONFIRMED'))
FROM orders GROUP BY user_id;

-- The recount: a buyer's open orders only.
CREATE INDEX orders_open_by_buyer ON orders (user_id) WHERE status IN ('PENDING', 'CONFIRMED');
