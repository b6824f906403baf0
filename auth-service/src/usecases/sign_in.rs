//! Signing in with email and password: the attempt is counted before the password is checked
//! (see `rate_limit`); an unknown email and a wrong password get the same 401 after the same
//! work (the dummy hash); a success gives the attempt back and starts a session.

use std::net::IpAddr;

use axum_extra::extract::CookieJar;

use crate::{
    db::users::{self, UserRow},
    domain::Email,
    error::ApiError,
    sessions::Issued,
    usecases::{Accounts, start_session::signed_in},
};

/// The credentials as submitted, and where from.
pub struct SignIn {
    pub ip: IpAddr,
    pub email: String,
    pub password: String,
}

/// Checks the credentials and starts a session. `jar` holds the browser's device cookie, which
/// decides which counters the attempt is taken from.
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub async fn sign_in(
    accounts: &Accounts,
    jar: &CookieJar,
    credentials: SignIn,
) -> Result<(UserRow, Issued), ApiError> {
    let attempt = accounts
        .limiter
        .login_attempt(credentials.ip, jar, &credentials.email)
        .await?;

    let user = if Email::parse(&credentials.email).is_ok() {
        users::find_by_email(&accounts.pool, &credentials.email).await?
    } else {
        None
    };
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    let matches = accounts
        .passwords
        .verify(credentials.password, hash)
        .await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::InvalidCredentials);
    };
    accounts.limiter.login_succeeded(attempt).await?;
    signed_in(&accounts.pool, &accounts.sessions, user).await
}
