//! Sessions: a short-lived signed access token plus a long-lived, single-use refresh token
//! (256 random bits, stored as its SHA-256), both delivered as HttpOnly, SameSite=Strict cookies.
//! Rotation spends the presented refresh token and issues the next one in the same family;
//! presenting a spent or revoked token revokes the whole family. Logout revokes the family and
//! deny-lists the access token's `jti` in Redis until it expires.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use auth_kit::{ACCESS_COOKIE, Claims, REFRESH_COOKIE, Role, deny_list_key, signing::SigningKeys};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    db::{refresh_tokens, users::UserRow},
    error::ApiError,
};

/// The path of the refresh cookie: only auth-service's own routes receive it.
pub const REFRESH_COOKIE_PATH: &str = "/api/auth";

/// A user as the API shows it (never the hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserResponse {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl TryFrom<&UserRow> for UserResponse {
    type Error = ApiError;

    fn try_from(row: &UserRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id,
            username: row.username.clone(),
            email: row.email.clone(),
            role: parse_role(&row.role)?,
            created_at: row.created_at,
        })
    }
}

fn parse_role(role: &str) -> Result<Role, ApiError> {
    role.parse::<Role>()
        .map_err(|error| ApiError::Internal(anyhow::anyhow!(error)))
}

/// The body of login, refresh and demo-login.
#[derive(Debug, Serialize)]
pub struct SessionResponse {
    pub user: UserResponse,
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A freshly issued session.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub claims: Claims,
}

/// Issues, rotates and ends sessions. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    keys: Arc<SigningKeys>,
    pool: PgPool,
    redis: deadpool_redis::Pool,
    key_prefix: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
    cookie_secure: bool,
}

fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Sessions {
    pub fn new(
        keys: Arc<SigningKeys>,
        pool: PgPool,
        redis: deadpool_redis::Pool,
        key_prefix: String,
        access_ttl: Duration,
        refresh_ttl: Duration,
        cookie_secure: bool,
    ) -> Self {
        Self {
            keys,
            pool,
            redis,
            key_prefix,
            access_ttl,
            refresh_ttl,
            cookie_secure,
        }
    }

    /// Starts a new session (a new refresh-token family) for `user`.
    pub async fn start(&self, user: &UserRow) -> Result<Issued, ApiError> {
        refresh_tokens::delete_expired(&self.pool, user.id).await?;
        let mut transaction = self.pool.begin().await?;
        let issued = self.issue(&mut transaction, user, Uuid::now_v7()).await?;
        transaction.commit().await?;
        Ok(issued)
    }

    async fn issue(
        &self,
        connection: &mut sqlx::PgConnection,
        user: &UserRow,
        family_id: Uuid,
    ) -> Result<Issued, ApiError> {
        let claims = Claims::new(
            user.id,
            &user.username,
            parse_role(&user.role)?,
            self.access_ttl,
        );
        let access_token = self.keys.sign(&claims).context("signing an access token")?;
        let refresh_token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let expires_at = OffsetDateTime::now_utc() + self.refresh_ttl;
        let access_expires_at = OffsetDateTime::from_unix_timestamp(claims.exp)
            .context("access token expiry out of range")?;
        refresh_tokens::insert(
            &mut *connection,
            refresh_tokens::NewRefreshToken {
                user_id: user.id,
                family_id,
                token_hash: &hash_token(&refresh_token),
                expires_at,
                access_jti: &claims.jti,
                access_expires_at,
            },
        )
        .await?;
        Ok(Issued {
            access_token,
            refresh_token,
            claims,
        })
    }

    /// Spends `refresh_token` and issues the next session of its family. A spent or revoked
    /// token revokes the family (someone replayed it: the thief or the victim).
    pub async fn rotate(&self, refresh_token: &str) -> Result<(UserRow, Issued), ApiError> {
        let mut transaction = self.pool.begin().await?;
        let Some(row) =
            refresh_tokens::find_for_update(&mut transaction, &hash_token(refresh_token)).await?
        else {
            return Err(ApiError::InvalidRefreshToken);
        };
        if row.used_at.is_some() || row.revoked_at.is_some() {
            let issued = refresh_tokens::revoke_family(&mut *transaction, row.family_id).await?;
            transaction.commit().await?;
            tracing::warn!(
                family_id = %row.family_id,
                user_id = %row.user_id,
                "refresh token reused; family revoked"
            );
            // The family is revoked either way; without Redis its access tokens live out their TTL.
            let denied: Vec<_> = issued
                .iter()
                .map(|access| {
                    (
                        access.access_jti.as_str(),
                        access.access_expires_at.unix_timestamp(),
                    )
                })
                .collect();
            if let Err(error) = self.deny(&denied).await {
                tracing::error!(error = %error, "cannot deny-list the reused family's access tokens");
            }
            return Err(ApiError::RefreshTokenReused);
        }
        if row.expires_at <= OffsetDateTime::now_utc() {
            return Err(ApiError::InvalidRefreshToken);
        }
        if !refresh_tokens::mark_used(&mut *transaction, row.id).await? {
            return Err(ApiError::RefreshTokenReused);
        }
        let Some(user) = crate::db::users::find_by_id(&mut *transaction, row.user_id).await? else {
            return Err(ApiError::InvalidRefreshToken);
        };
        let issued = self.issue(&mut transaction, &user, row.family_id).await?;
        transaction.commit().await?;
        Ok((user, issued))
    }

    /// Ends a session: revokes the refresh token's family and deny-lists the access tokens it
    /// handed out, and the presented access token (if valid), until they expire.
    pub async fn end(
        &self,
        access: Option<&Claims>,
        refresh_token: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut issued = Vec::new();
        if let Some(token) = refresh_token
            && let Some(family_id) =
                refresh_tokens::family_of(&self.pool, &hash_token(token)).await?
        {
            issued = refresh_tokens::revoke_family(&self.pool, family_id).await?;
        }
        let mut denied: Vec<(&str, i64)> = issued
            .iter()
            .map(|access| {
                (
                    access.access_jti.as_str(),
                    access.access_expires_at.unix_timestamp(),
                )
            })
            .collect();
        if let Some(claims) = access {
            denied.push((claims.jti.as_str(), claims.exp));
        }
        self.deny(&denied).await
    }

    /// Deny-lists access tokens `(jti, exp)` until their expiry (plus the verifiers' leeway).
    async fn deny(&self, tokens: &[(&str, i64)]) -> Result<(), ApiError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut pipe = redis::pipe();
        let mut any = false;
        for (jti, exp) in tokens {
            if *exp > now {
                let ttl = u64::try_from(exp - now).unwrap_or(1) + 60;
                pipe.cmd("SET")
                    .arg(deny_list_key(&self.key_prefix, jti))
                    .arg(1)
                    .arg("EX")
                    .arg(ttl)
                    .ignore();
                any = true;
            }
        }
        if !any {
            return Ok(());
        }
        let mut connection = self
            .redis
            .get()
            .await
            .context("cannot reach Redis to revoke tokens")
            .map_err(ApiError::Unavailable)?;
        let () = pipe
            .query_async(&mut *connection)
            .await
            .context("writing the deny-list")
            .map_err(ApiError::Unavailable)?;
        Ok(())
    }

    /// Seconds an access token lives.
    pub fn access_ttl_seconds(&self) -> u64 {
        self.access_ttl.as_secs()
    }

    fn cookie(&self, name: &'static str, value: String, path: &'static str) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .secure(self.cookie_secure)
            .same_site(SameSite::Strict)
            .path(path)
            .build()
    }

    /// Sets both session cookies.
    pub fn set_cookies(&self, jar: CookieJar, issued: &Issued) -> CookieJar {
        let mut access = self.cookie(ACCESS_COOKIE, issued.access_token.clone(), "/");
        access.set_max_age(time::Duration::seconds(
            i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        let mut refresh = self.cookie(
            REFRESH_COOKIE,
            issued.refresh_token.clone(),
            REFRESH_COOKIE_PATH,
        );
        refresh.set_max_age(time::Duration::seconds(
            i64::try_from(self.refresh_ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        jar.add(access).add(refresh)
    }

    /// Expires both session cookies.
    pub fn clear_cookies(&self, jar: CookieJar) -> CookieJar {
        jar.remove(self.cookie(ACCESS_COOKIE, String::new(), "/"))
            .remove(self.cookie(REFRESH_COOKIE, String::new(), REFRESH_COOKIE_PATH))
    }

    /// The response body of a new session.
    pub fn response(&self, user: &UserRow, issued: Issued) -> Result<SessionResponse, ApiError> {
        Ok(SessionResponse {
            user: UserResponse::try_from(user)?,
            access_token: issued.access_token,
            expires_in: self.access_ttl.as_secs(),
        })
    }
}
