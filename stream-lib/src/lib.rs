//! stream-lib: how the marketplace's services exchange events over Redis Streams.
//!
//! - [`Event`] is a typed event (a Rust type that names its `type` string once); [`Envelope`] is
//!   what every entry carries (flat fields: `event_id`, `type`, `source`, `occurred_at`,
//!   `correlation_id`, `payload`).
//! - [`outbox`]: a producer writes its state change and the event in one PostgreSQL transaction
//!   ([`outbox::enqueue`]); [`outbox::OutboxRelay`] publishes pending rows in batches.
//! - [`inbox`]: a consumer records the event id in the same transaction as its effect, so a
//!   redelivered event changes nothing.
//! - [`handler`]: typed handlers per event type ([`Handlers`]`::new().on::<E, _>(h)` or
//!   `.on_fn(|tx, event: E, meta| Box::pin(async move { .. }))`), the [`Tx`] they run in (it
//!   derefs to the `PgConnection`; `after_commit` for effects after the commit) and
//!   [`HandlerError`] (`Unavailable` pauses the consumer, `Transient` counts an attempt,
//!   `Permanent` dead-letters).
//! - [`consumer`]: the batch consumer ([`consumer::Consumer`]`::new(redis_url, keys,`
//!   [`ConsumerSettings`]`::from_env(stream, group)?, pool, handlers)`): one XREADGROUP per
//!   batch, one transaction per sub-batch with the inbox recorded by the library, one XACK after
//!   each commit; retries, dead letters, reclaim, pause on outages, graceful shutdown.
//! - [`legacy`]: the first version's per-entry consumer ([`Consumer`], [`Handler`]), until the
//!   services moved; then deleted.
//! - [`admin`]: stream health, dead-letter listing and replay, for operators and the admin API;
//!   the `stream-admin` binary puts them on the command line.
//!
//! The crate's README.md describes the Redis keys, how retries, reclaim and the heartbeat work,
//! and the `redis-cli` commands to inspect it all.

pub mod admin;
pub mod consumer;
pub mod dead_letter;
pub mod envelope;
pub mod event;
pub mod handler;
pub mod inbox;
pub mod keys;
pub mod legacy;
pub mod outbox;
pub mod retry;
mod wire;

// The first version's consumer, until both services moved to `consumer::Consumer`.
pub use legacy::{Consumer, ConsumerConfig, Handler};

pub use consumer::ConsumerSettings;
pub use envelope::Envelope;
pub use event::Event;
pub use handler::{Handle, HandlerError, Handlers, Tx};
pub use keys::{DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys};
pub use retry::{Backoff, RetryPolicy};
