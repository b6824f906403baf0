//! auth-service against a real PostgreSQL and Redis: every test starts its own application on
//! port 0 with its own database and Redis key prefix.

mod authorization;
mod bad_input;
mod helpers;
mod nginx;

mod behind_nginx;
mod cluster;
mod devices;
mod health;
mod jwks;
mod login;
mod migrations;
mod openapi;
mod rate_limit;
mod requests;
mod seeding;
mod session_lifetime;
mod sessions;
mod signup;
mod tokens;
