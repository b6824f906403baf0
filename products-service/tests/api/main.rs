//! Integration tests of products-service against real PostgreSQL and Redis: each test starts the
//! real application on port 0 with its own database and Redis key prefix.

mod authorization;
mod bad_input;
mod catalog;
mod health;
mod helpers;
mod http_cache;
mod inventory;
mod listings;
mod malformed;
mod openapi;
mod pagination;
mod plans;
mod readiness;
mod replicas;
mod search;
mod stock_batches;
mod token_attacks;
