-- Placing an order, round trip 3 of 5 (BEGIN, claim_and_read_catalog.sql, this, the outbox row,
-- COMMIT): the PENDING order, its lines, its first history row and the Idempotency-Key's
-- answer, in one statement; nothing at all (false) when the buyer already holds $5 orders
-- PENDING or CONFIRMED.
--
-- The cap is taken on the buyer's `buyer_order_counts` row: `ON CONFLICT DO UPDATE` locks it,
-- so one buyer's placements queue there, and its `WHERE` sees the latest `placed` even when the
-- statement's snapshot predates a placement that committed while this one waited. Open orders
-- are the ones the snapshot shows open plus every placement it does not show yet (`placed` now
-- minus `placed` in the snapshot: counted open, so the estimate never falls short). The count
-- runs only when the bound kept in the row reaches the cap; below it, the bound alone proves
-- there is room.
--
-- $1 order id, $2 user id, $3 total, $4 correlation id, $5 max open orders, $6 created_at,
-- $7..$11 the lines (positions, product ids, names, unit prices, quantities),
-- $12 Idempotency-Key (or null), $13 its answer's status, $14 its answer's body.
WITH seen AS (
    SELECT placed FROM buyer_order_counts WHERE user_id = $2
), open_now AS (
    SELECT count(*) AS n FROM (
        SELECT 1 FROM orders
        WHERE user_id = $2 AND status IN ('PENDING', 'CONFIRMED') LIMIT $5
    ) open
), slot AS (
    INSERT INTO buyer_order_counts AS counts (user_id, placed, open_at_most)
    VALUES ($2, 1, 1)
    ON CONFLICT (user_id) DO UPDATE SET
        placed = counts.placed + 1,
        open_at_most = 1 + CASE
            WHEN counts.open_at_most < $5 THEN counts.open_at_most
            ELSE (SELECT n FROM open_now)
                 + counts.placed - COALESCE((SELECT placed FROM seen), 0)
        END
    WHERE counts.open_at_most < $5
       OR (SELECT n FROM open_now)
          + counts.placed - COALESCE((SELECT placed FROM seen), 0) < $5
    RETURNING 1
), placed AS (
    INSERT INTO orders (id, user_id, status, total, correlation_id, created_at, updated_at)
    SELECT $1, $2, 'PENDING', $3, $4, $6, $6 FROM slot
    RETURNING id
), lines AS (
    INSERT INTO order_items (order_id, position, product_id, name, unit_price, quantity)
    SELECT placed.id, line.*
    FROM placed,
         UNNEST($7::int[], $8::uuid[], $9::text[], $10::numeric[], $11::int[]) AS line
), history AS (
    INSERT INTO order_status_history (order_id, from_status, to_status, changed_at)
    SELECT id, NULL, 'PENDING', $6 FROM placed
), answer AS (
    UPDATE idempotency_keys SET response_status = $13, response_body = $14
    WHERE user_id = $2 AND key = $12 AND EXISTS (SELECT 1 FROM placed)
)
SELECT EXISTS (SELECT 1 FROM placed)
