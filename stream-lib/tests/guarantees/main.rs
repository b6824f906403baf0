//! stream-lib's delivery guarantees, against the real Redis and PostgreSQL.

mod admin;
mod batch;
mod batch_handlers;
mod bench;
mod cluster;
mod consumer;
mod helpers;
mod history;
mod inbox;
mod observability;
mod outbox;
mod recovery;
mod retention;
mod shutdown;
mod soak;
