//! orders-service (skeleton): serves `GET /health` and stops on SIGTERM.

pub mod config;
pub mod startup;
