//! Use cases: the rules of one behaviour (what is counted and checked, who may, which
//! transaction), called by the route handlers; the SQL they run is in `db`, token signing,
//! deny-listing and cookies in `sessions`.

pub mod current_user;
pub mod demo_sign_in;
pub mod refresh;
pub mod sign_in;
pub mod sign_out;
pub mod sign_out_everywhere;
pub mod sign_up;
pub mod start_session;

use sqlx::PgPool;

use crate::{passwords::Passwords, rate_limit::RateLimiter, sessions::Sessions};

/// What the password use cases (sign-up, sign-in) work with. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    pub pool: PgPool,
    pub passwords: Passwords,
    pub limiter: RateLimiter,
    pub sessions: Sessions,
}
