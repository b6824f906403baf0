//! auth-service: accounts and revocable sessions for the marketplace.
//!
//! Users live in this service's PostgreSQL database (refinery migrations at start-up); emails and
//! usernames are unique case-insensitively and passwords are argon2id hashes computed on the
//! blocking pool. A session is a 15-minute EdDSA access token (verified by every service through
//! `auth-kit` with the public key from `GET /api/auth/jwks`) plus a single-use refresh token,
//! stored hashed and grouped in families so that replaying a spent one revokes the family. Logout
//! deny-lists the access token's `jti` in Redis, which every verifier checks. Login and signup are
//! rate limited in Redis, counted before the password is checked: per client address and per
//! account, where a browser that signed in before (its device cookie, [`devices`]) is counted on
//! its own, so nobody can lock an owner out of their account. Settings: see [`config`].
//!
//! The flow is one way: `routes` extract and map, each behaviour's rules live in one
//! [`usecases`] file, and the SQL in `db` (which takes a connection and returns its own errors).

pub mod client_ip;
pub mod config;
pub mod db;
pub mod devices;
pub mod domain;
pub mod error;
pub mod passwords;
pub mod rate_limit;
pub mod routes;
pub mod seed;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod usecases;
