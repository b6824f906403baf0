//! Integration tests of products-service against real PostgreSQL and Redis: each test starts the
//! real application on port 0 with its own database and Redis key prefix.

mod catalog;
mod health;
mod helpers;
mod inventory;
mod listings;
