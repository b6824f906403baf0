//! orders-service against real PostgreSQL and Redis: one binary, one module per area.

mod admin;
mod authorization;
mod bad_input;
mod batches;
mod catalog;
mod cluster;
mod commits;
mod correlation;
mod hang_up;
mod health;
mod helpers;
mod idempotency;
mod lifecycle;
mod limits;
mod live;
mod metrics;
mod no_secrets;
mod openapi;
mod payment;
mod placing;
mod races;
mod redis_acl;
mod round_trips;
mod system;
mod token_attacks;
mod wire;
