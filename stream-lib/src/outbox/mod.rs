//! The transactional outbox: a service writes its state change and its events in one PostgreSQL
//! transaction ([`Outbox::enqueue`]); [`OutboxRelay`] publishes pending rows to their streams in
//! id order, notices when Redis lost what it had accepted and republishes it ([`recovery`]), and
//! purges published rows past their retention ([`retention`]).
//!
//! Each producing service's migrations create the tables with exactly [`OUTBOX_TABLE_SQL`] and
//! [`OUTBOX_STREAMS_TABLE_SQL`], then run [`OUTBOX_TRACEPARENT_SQL`].

mod enqueue;
pub mod recovery;
mod relay;
pub mod retention;
mod settings;

pub use enqueue::Outbox;
pub use relay::{OutboxRelay, RelayConfig};
pub use settings::SettingError;

/// The SQL of the outbox table, its pending index and the trigger that wakes the relay
/// (`LISTEN outbox`) when a transaction that enqueued an event commits.
pub const OUTBOX_TABLE_SQL: &str = r#"CREATE TABLE outbox (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream         TEXT        NOT NULL,
    event_id       UUID        NOT NULL UNIQUE,
    event_type     TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    correlation_id TEXT        NOT NULL,
    payload        JSONB       NOT NULL,
    published_at   TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();"#;

/// The SQL that adds the outbox's `traceparent` column (the W3C trace context an event carries
/// to its stream entry; NULL when tracing is off), run after [`OUTBOX_TABLE_SQL`].
pub const OUTBOX_TRACEPARENT_SQL: &str = "ALTER TABLE outbox ADD COLUMN traceparent TEXT;";

/// The SQL of the relay's memory of each stream it publishes to: the epoch it wrote into Redis
/// (`{<stream>}:epoch`) and the highest entry id it published (`last_ms`-`last_seq`), so that it
/// can tell when Redis lost entries it had accepted ([`recovery`]).
pub const OUTBOX_STREAMS_TABLE_SQL: &str = "CREATE TABLE outbox_streams (
    stream       TEXT        PRIMARY KEY,
    epoch        TEXT        NOT NULL,
    last_ms      BIGINT      NOT NULL DEFAULT 0,
    last_seq     BIGINT      NOT NULL DEFAULT 0,
    recovered_at TIMESTAMPTZ
);";
