-- Releases the held reservations of the orders in $1 exactly once (compare-and-set on their
-- status) and puts their units back; an order never seen gets a tombstone (released, no lines)
-- so a late order.placed is ignored. The listings are locked in id order before any is
-- updated; the version moves once per order. Returns the orders whose units went back.
WITH released AS (
    INSERT INTO reservations AS r (order_id, status, lines)
    SELECT o.order_id, 'released', '[]'::jsonb FROM unnest($1::uuid[]) AS o(order_id)
    ON CONFLICT (order_id) DO UPDATE SET status = 'released', updated_at = now()
    WHERE r.status = 'reserved'
    RETURNING r.order_id, r.lines
), returned AS (
    SELECT l.product_id, sum(l.quantity)::int4 AS quantity, count(*) AS moves
    FROM released, jsonb_to_recordset(released.lines) AS l(product_id uuid, quantity int4)
    GROUP BY l.product_id
), locked AS (
    SELECT p.id FROM products AS p
    WHERE p.id IN (SELECT product_id FROM returned)
    ORDER BY p.id
    FOR UPDATE
), restored AS (
    UPDATE products AS p
    SET stock = p.stock + r.quantity, version = p.version + r.moves, updated_at = now()
    FROM returned AS r
    WHERE p.id = r.product_id AND p.id IN (SELECT id FROM locked)
    RETURNING p.id
)
SELECT order_id FROM released WHERE jsonb_array_length(lines) > 0
