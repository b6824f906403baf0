-- Copied verbatim from stream-lib (outbox::OUTBOX_TRACEPARENT_SQL): the W3C trace context each
-- event carries to its stream entry, NULL when tracing is off.
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
