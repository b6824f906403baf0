//! Accounts ensured at start-up: the demo users (`DEMO_USERS`) and the administrator
//! (`ADMIN_EMAIL` + `ADMIN_PASSWORD`). Seeding bypasses the signup password policy on purpose:
//! `demotest` is on the common-password list so nobody can sign up with it.

use anyhow::Context;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    config::AdminAccount,
    db::{DbError, users},
    domain::UserId,
    passwords::Passwords,
};

/// The demo accounts: (id, email, username). The ids are fixed and well known because
/// products-service seeds its demo catalog for these sellers (`DEMO_SELLER_ID` and
/// `DEMO2_SELLER_ID` there) without ever reading this database.
pub const DEMO_ACCOUNTS: [(UserId, &str, &str); 2] = [
    (
        UserId::from_uuid(Uuid::from_u128(0x0193_a1d0_5eed_7000_8000_0000_0000_0001)),
        "demo@demo.com",
        "demo",
    ),
    (
        UserId::from_uuid(Uuid::from_u128(0x0193_a1d0_5eed_7000_8000_0000_0000_0002)),
        "demo2@demo.com",
        "demo2",
    ),
];
/// Their shared, published password.
pub const DEMO_PASSWORD: &str = "demotest";

/// Creates the demo accounts that do not exist yet.
pub async fn demo_users(pool: &PgPool, passwords: &Passwords) -> anyhow::Result<()> {
    for (id, email, username) in DEMO_ACCOUNTS {
        if users::find_by_email(pool, email).await?.is_some() {
            continue;
        }
        let hash = passwords.hash(DEMO_PASSWORD.to_owned()).await?;
        match users::insert(pool, id, username, email, &hash, "user").await {
            Ok(_) => tracing::info!(email, "demo user created"),
            // Another replica seeded it first.
            Err(DbError::EmailTaken) => {}
            Err(DbError::UsernameTaken) => {
                tracing::warn!(
                    username,
                    "demo username taken by another account; demo user skipped"
                )
            }
            Err(error) => return Err(error).context("seeding a demo user"),
        }
    }
    Ok(())
}

/// Creates the administrator account when no account has `ADMIN_EMAIL`. An existing account is
/// never changed: an administrator keeps its password (`ADMIN_PASSWORD` only sets a new
/// account's), and a non-admin account with that email stops the start, since promoting it would
/// hand the site to whoever registered the address first.
pub async fn admin(
    pool: &PgPool,
    passwords: &Passwords,
    account: &AdminAccount,
) -> anyhow::Result<()> {
    if crate::domain::password_is_common(&account.password) {
        tracing::warn!("ADMIN_PASSWORD is a common password; change it");
    }
    // A replica starting at the same moment may create the account between our lookup and our
    // insert; the second round then finds it.
    for _ in 0..2 {
        match users::find_by_email(pool, &account.email).await? {
            Some(row) if row.role == "admin" => {
                tracing::info!(
                    email = %row.email,
                    "administrator account exists; left unchanged (ADMIN_PASSWORD applies only                      when the account is created)"
                );
                return Ok(());
            }
            Some(_) => anyhow::bail!(
                "ADMIN_EMAIL {:?} belongs to an existing non-admin account; refusing to promote it                  (whoever registered that address would become administrator). Set ADMIN_EMAIL to                  an address no account uses, or remove that account",
                account.email
            ),
            None => {}
        }
        let hash = passwords.hash(account.password.clone()).await?;
        match users::insert(
            pool,
            UserId::generate(),
            &account.username,
            &account.email,
            &hash,
            "admin",
        )
        .await
        {
            Ok(row) => {
                tracing::info!(email = %row.email, "administrator account created");
                return Ok(());
            }
            Err(DbError::EmailTaken) => continue,
            Err(DbError::UsernameTaken) => anyhow::bail!(
                "ADMIN_USERNAME {:?} is taken by another account; set ADMIN_USERNAME to a free name",
                account.username
            ),
            Err(error) => return Err(error).context("creating the administrator"),
        }
    }
    anyhow::bail!("ADMIN_EMAIL: the administrator account could not be created")
}
