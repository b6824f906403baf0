#![doc = include_str!("../README.md")]

pub mod admin;
pub mod connection;
pub mod consumer;
#[cfg(feature = "schemas")]
pub mod contract;
mod db;
pub mod dead_letter;
pub mod envelope;
pub mod event;
pub mod gauges;
pub mod handler;
pub mod history;
pub mod inbox;
pub mod keys;
pub mod outbox;
pub mod retry;
pub mod state;
pub mod status;
mod trace;
mod wire;

pub use connection::StreamRedis;
pub use consumer::{Consumer, ConsumerSettings};
pub use envelope::Envelope;
pub use event::Event;
pub use handler::{Delivered, Handle, HandleBatch, HandlerError, Handlers, Tx};
pub use keys::{DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys};
pub use retry::{Backoff, RetryPolicy};
