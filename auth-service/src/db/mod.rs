//! SQL, one module per table. Queries are checked at run time (no build-time database).

pub mod refresh_tokens;
pub mod users;
