//! Signing up: the attempt is counted (per address and per email) before anything is checked;
//! the fields are parsed together (every problem named at once); a taken email or username is a
//! 409 naming the field, also when a concurrent sign-up wins the race to the unique index; then
//! the account is created and signed in.

use std::net::IpAddr;

use web_kit::error::FieldErrors;

use crate::{
    db::users::{self, UserRow},
    domain::{Email, NewPassword, UserId, Username},
    error::ApiError,
    sessions::Issued,
    usecases::{Accounts, start_session::signed_in},
};

/// A sign-up as submitted (parsed here, after the attempt is counted).
pub struct SignUp {
    pub ip: IpAddr,
    pub username: String,
    pub email: String,
    pub password: String,
}

/// Creates the account and its first session.
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub async fn sign_up(accounts: &Accounts, form: SignUp) -> Result<(UserRow, Issued), ApiError> {
    accounts
        .limiter
        .signup_attempt(form.ip, &form.email)
        .await?;

    let mut errors = FieldErrors::new();
    let username = Username::parse(&form.username)
        .map_err(|message| errors.insert("username".into(), vec![message]))
        .ok();
    let email = Email::parse(&form.email)
        .map_err(|message| errors.insert("email".into(), vec![message]))
        .ok();
    let password = NewPassword::parse(&form.password)
        .map_err(|message| errors.insert("password".into(), vec![message]))
        .ok();
    let (Some(username), Some(email), Some(password)) = (username, email, password) else {
        return Err(ApiError::Validation(errors));
    };

    let (email_taken, username_taken) =
        users::taken(&accounts.pool, email.as_str(), username.as_str()).await?;
    if email_taken || username_taken {
        return Err(ApiError::taken(email_taken, username_taken));
    }
    let hash = accounts
        .passwords
        .hash(password.expose().to_owned())
        .await?;
    // A concurrent sign-up that won the race to the unique index is a 409 too (`DbError`).
    let user = users::insert(
        &accounts.pool,
        UserId::generate(),
        username.as_str(),
        email.as_str(),
        &hash,
        "user",
    )
    .await?;
    tracing::info!(user_id = %user.id, "account created");
    signed_in(&accounts.pool, &accounts.sessions, user).await
}
