-- Records a run's decisions, one reservation row per order unless the order was seen before
-- (a reservation or a tombstone exists), and takes the units of the reserved orders recorded
-- here from listings this transaction has locked ([`lock_listings`], in id order). A listing
-- short of units takes nothing: the caller compares `taken` with `wanted` and rolls back. The
-- version moves once per order, as if the orders had been applied one by one.
WITH recorded AS (
    INSERT INTO reservations (order_id, status, lines)
    SELECT d.order_id, d.status, d.lines
    FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) AS d(order_id, status, lines)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id, status, lines
), wanted AS (
    SELECT l.product_id, sum(l.quantity)::int4 AS quantity, count(*) AS moves
    FROM recorded, jsonb_to_recordset(recorded.lines) AS l(product_id uuid, quantity int4)
    WHERE recorded.status = 'reserved'
    GROUP BY l.product_id
), taken AS (
    UPDATE products AS p
    SET stock = p.stock - w.quantity, version = p.version + w.moves, updated_at = now()
    FROM wanted AS w
    WHERE p.id = w.product_id AND p.stock >= w.quantity AND p.deleted_at IS NULL
    RETURNING p.id
)
SELECT recorded.order_id,
       (SELECT count(*) FROM wanted) AS wanted,
       (SELECT count(*) FROM taken) AS taken
FROM (SELECT 1) AS one LEFT JOIN recorded ON true
