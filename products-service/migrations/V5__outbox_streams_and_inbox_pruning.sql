-- Copied verbatim from stream-lib (outbox::OUTBOX_STREAMS_TABLE_SQL, inbox::INBOX_PRUNE_INDEX_SQL):
-- what the outbox relay remembers of each stream (to notice that Redis lost data), and the index
-- inbox pruning reads.
CREATE TABLE outbox_streams (
    stream       TEXT        PRIMARY KEY,
    epoch        TEXT        NOT NULL,
    last_ms      BIGINT      NOT NULL DEFAULT 0,
    last_seq     BIGINT      NOT NULL DEFAULT 0,
    recovered_at TIMESTAMPTZ
);

CREATE INDEX inbox_handled_at ON inbox (consumer, handled_at);
