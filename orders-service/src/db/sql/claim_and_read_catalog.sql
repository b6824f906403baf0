-- Placing an order, round trip 2 of 5 (BEGIN, this, write_order.sql, the outbox row, COMMIT):
-- claims the Idempotency-Key (when $2 is not null) and reads the catalog copy of the ordered
-- products, with the transaction's timestamp (the order's created_at: now() is fixed for the
-- whole transaction).
--
-- A key held by a concurrent, uncommitted placement makes the INSERT wait until that
-- transaction ends; `claimed` is then false and the caller reads the stored answer with a
-- statement of its own (this statement's snapshot predates that commit).
--
-- $1 user id, $2 key (or null), $3 request fingerprint, $4 product ids.
-- One row at least: the products found (none: a single row of nulls).
WITH claim AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash)
    SELECT $1, $2, $3 WHERE $2::text IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM claim) AS claimed,
       now() AS now,
       c.product_id, c.seller_id, c.name, c.price, c.deleted
FROM (SELECT 1) AS one
LEFT JOIN catalog_products c ON c.product_id = ANY($4::uuid[])
