-- The inventory consumer's set-based transition (db/batch.rs): every order of $3 still in
-- status $1 moves to $2 (compare-and-set), with its reason ($4, null keeps the current one)
-- and, when $5 is not null, a reservation window of $5 seconds; each gets its history row. Rows
-- are locked in id order, so two batches cannot deadlock on each other.
--
-- $1 from, $2 to, $3 distinct order ids, $4 their reasons, $5 seconds until expiry (or null).
-- Returns the moved orders.
WITH wanted AS (
    SELECT * FROM unnest($3::uuid[], $4::text[]) AS w(id, reason)
), locked AS (
    SELECT id FROM orders WHERE id = ANY($3::uuid[]) AND status = $1 ORDER BY id FOR UPDATE
), moved AS (
    UPDATE orders o SET
        status = $2,
        reason = COALESCE(w.reason, o.reason),
        expires_at = CASE WHEN $5::float8 IS NULL THEN o.expires_at
                          ELSE clock_timestamp() + make_interval(secs => $5::float8) END,
        version = o.version + 1,
        updated_at = clock_timestamp()
    FROM wanted w
    WHERE o.id = w.id AND o.id IN (SELECT id FROM locked) AND o.status = $1
    RETURNING o.id, o.user_id, o.status, o.total, o.reason, o.expires_at, o.version,
              o.correlation_id, o.created_at, o.updated_at, w.reason AS given_reason
), history AS (
    INSERT INTO order_status_history (order_id, from_status, to_status, reason)
    SELECT id, $1, $2, given_reason FROM moved
)
SELECT id, user_id, status, total, reason, expires_at, version, correlation_id, created_at,
       updated_at
FROM moved
