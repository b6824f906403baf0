-- Idempotency keys expire (IDEMPOTENCY_KEY_TTL_SECS): the sweeper deletes the oldest in small
-- batches, which this index finds without scanning the table.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
