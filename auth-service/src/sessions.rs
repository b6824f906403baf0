//! Sessions: a short-lived signed access token plus a long-lived, single-use refresh token
//! (256 random bits, stored as its SHA-256), both delivered as HttpOnly, SameSite=Strict cookies.
//! Rotation spends the presented refresh token and issues the next one in the same family, never
//! past the session's absolute end (`SESSION_MAX_LIFETIME_SECONDS` after sign-in); presenting a
//! spent or revoked token revokes the whole family. One exception keeps two tabs of one browser
//! from tripping that: a token spent less than [`REUSE_GRACE`] ago is answered with the same
//! successor it was rotated into (the successor is derived from it with the service's key, so it
//! can be given again without being stored). Logout revokes the family, "sign out everywhere"
//! every family of the user, and both deny-list the access tokens in Redis until they expire.

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
/// How long a spent refresh token may be presented again and get the same successor (two tabs
/// refreshing at once with one cookie).
pub const REUSE_GRACE: Duration = Duration::from_secs(10);
/// Domain separation of the successor derivation.
const SUCCESSOR_CONTEXT: &[u8] = b"marketplace auth-service refresh successor v1\0";

/// A user as the API shows it (never the hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = User)]
pub struct UserResponse {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    #[schema(schema_with = role_schema)]
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

/// `user` or `admin`.
fn role_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([Role::User.as_str(), Role::Admin.as_str()]))
        .build()
}

/// The body of login, refresh and demo-login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Session)]
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
    pub refresh_expires_at: OffsetDateTime,
    pub claims: Claims,
}

/// Issues, rotates and ends sessions. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    keys: Arc<SigningKeys>,
    pool: PgPool,
    redis: web_kit::redis_pool::RedisPool,
    key_prefix: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
    session_max_lifetime: Duration,
    cookie_secure: bool,
}

/// How long the session cookies live.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
    /// The absolute end of a session after its sign-in, however often it is refreshed.
    pub session_max: Duration,
}

/// `(jti, exp)` of the access tokens a revoked family handed out, for the deny-list.
fn denials(issued: &[refresh_tokens::IssuedAccess]) -> Vec<(&str, i64)> {
    issued
        .iter()
        .map(|access| {
            (
                access.access_jti.as_str(),
                access.access_expires_at.unix_timestamp(),
            )
        })
        .collect()
}

fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Sessions {
    pub fn new(
        keys: Arc<SigningKeys>,
        pool: PgPool,
        redis: web_kit::redis_pool::RedisPool,
        key_prefix: String,
        lifetimes: Lifetimes,
        cookie_secure: bool,
    ) -> Self {
        Self {
            keys,
            pool,
            redis,
            key_prefix,
            access_ttl: lifetimes.access,
            refresh_ttl: lifetimes.refresh,
            session_max_lifetime: lifetimes.session_max,
            cookie_secure,
        }
    }

    /// Starts a new session (a new refresh-token family) for `user`.
    pub async fn start(&self, user: &UserRow) -> Result<Issued, ApiError> {
        refresh_tokens::delete_expired(&self.pool, user.id).await?;
        let mut transaction = self.pool.begin().await?;
        let session_expires_at = OffsetDateTime::now_utc() + self.session_max_lifetime;
        let refresh_token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let issued = self
            .issue(
                &mut transaction,
                user,
                (Uuid::now_v7(), session_expires_at),
                refresh_token,
            )
            .await?;
        transaction.commit().await?;
        Ok(issued)
    }

    /// The refresh token that `token` rotates into: a keyed derivation, so it can be given again
    /// during [`REUSE_GRACE`] without being stored, and guessed by nobody without the key.
    fn successor_of(&self, token: &str) -> String {
        let signature = self
            .keys
            .sign_bytes(&[SUCCESSOR_CONTEXT, token.as_bytes()].concat());
        URL_SAFE_NO_PAD.encode(Sha256::digest(signature))
    }

    async fn issue(
        &self,
        connection: &mut sqlx::PgConnection,
        user: &UserRow,
        (family_id, session_expires_at): (Uuid, OffsetDateTime),
        refresh_token: String,
    ) -> Result<Issued, ApiError> {
        let claims = Claims::new(
            user.id,
            &user.username,
            parse_role(&user.role)?,
            self.access_ttl,
        );
        let access_token = self.keys.sign(&claims).context("signing an access token")?;
        let expires_at = (OffsetDateTime::now_utc() + self.refresh_ttl).min(session_expires_at);
        let access_expires_at = OffsetDateTime::from_unix_timestamp(claims.exp)
            .context("access token expiry out of range")?;
        refresh_tokens::insert(
            &mut *connection,
            refresh_tokens::NewRefreshToken {
                user_id: user.id,
                family_id,
                token_hash: &hash_token(&refresh_token),
                expires_at,
                session_expires_at,
                access_jti: &claims.jti,
                access_expires_at,
            },
        )
        .await?;
        Ok(Issued {
            access_token,
            refresh_token,
            refresh_expires_at: expires_at,
            claims,
        })
    }

    /// A spent token presented again within [`REUSE_GRACE`] of its rotation: the same successor
    /// (and its access token, signed again with the same id), when that successor is still
    /// unspent and live.
    async fn replay_successor(
        &self,
        connection: &mut sqlx::PgConnection,
        spent: &refresh_tokens::RefreshTokenRow,
        refresh_token: &str,
    ) -> Result<Option<(UserRow, Issued)>, ApiError> {
        let now = OffsetDateTime::now_utc();
        let Some(used_at) = spent.used_at else {
            return Ok(None);
        };
        if now - used_at > REUSE_GRACE || spent.revoked_at.is_some() {
            return Ok(None);
        }
        let successor = self.successor_of(refresh_token);
        let Some(next) =
            refresh_tokens::find_for_update(&mut *connection, &hash_token(&successor)).await?
        else {
            return Ok(None);
        };
        let (Some(jti), Some(access_expires_at)) = (next.access_jti, next.access_expires_at) else {
            return Ok(None);
        };
        if next.family_id != spent.family_id
            || next.used_at.is_some()
            || next.revoked_at.is_some()
            || next.expires_at <= now
        {
            return Ok(None);
        }
        let Some(user) = crate::db::users::find_by_id(&mut *connection, next.user_id).await? else {
            return Ok(None);
        };
        let exp = access_expires_at.unix_timestamp();
        let ttl = i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: user.id,
            username: user.username.clone(),
            role: parse_role(&user.role)?,
            jti,
            iat: exp - ttl,
            exp,
            iss: auth_kit::ISSUER.to_owned(),
        };
        let access_token = self.keys.sign(&claims).context("signing an access token")?;
        Ok(Some((
            user,
            Issued {
                access_token,
                refresh_token: successor,
                refresh_expires_at: next.expires_at,
                claims,
            },
        )))
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
        if let Some(replayed) = self
            .replay_successor(&mut transaction, &row, refresh_token)
            .await?
        {
            transaction.commit().await?;
            tracing::info!(family_id = %row.family_id, "refresh token presented again within the grace period");
            return Ok(replayed);
        }
        if row.used_at.is_some() || row.revoked_at.is_some() {
            let issued = refresh_tokens::revoke_family(&mut *transaction, row.family_id).await?;
            transaction.commit().await?;
            tracing::warn!(
                family_id = %row.family_id,
                user_id = %row.user_id,
                "refresh token reused; family revoked"
            );
            // The family is revoked either way; without Redis its access tokens live out their TTL.
            let denied: Vec<_> = denials(&issued);
            if let Err(error) = self.deny(&denied).await {
                tracing::error!(error = %error, "cannot deny-list the reused family's access tokens");
            }
            return Err(ApiError::RefreshTokenReused);
        }
        let now = OffsetDateTime::now_utc();
        if row.expires_at <= now || row.session_expires_at <= now {
            return Err(ApiError::InvalidRefreshToken);
        }
        if !refresh_tokens::mark_used(&mut *transaction, row.id).await? {
            return Err(ApiError::RefreshTokenReused);
        }
        let Some(user) = crate::db::users::find_by_id(&mut *transaction, row.user_id).await? else {
            return Err(ApiError::InvalidRefreshToken);
        };
        let issued = self
            .issue(
                &mut transaction,
                &user,
                (row.family_id, row.session_expires_at),
                self.successor_of(refresh_token),
            )
            .await?;
        transaction.commit().await?;
        Ok((user, issued))
    }

    /// Signs a user out everywhere: revokes every session and deny-lists every access token
    /// they handed out, and `access` (the presented one).
    pub async fn end_all(&self, user_id: Uuid, access: &Claims) -> Result<(), ApiError> {
        let issued = refresh_tokens::revoke_user(&self.pool, user_id).await?;
        let mut denied: Vec<(&str, i64)> = denials(&issued);
        denied.push((access.jti.as_str(), access.exp));
        tracing::info!(%user_id, sessions = issued.len(), "signed out everywhere");
        self.deny(&denied).await
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
        let mut denied: Vec<(&str, i64)> = denials(&issued);
        if let Some(claims) = access {
            denied.push((claims.jti.as_str(), claims.exp));
        }
        self.deny(&denied).await
    }

    /// Deny-lists access tokens `(jti, exp)` until their expiry (plus the verifiers' leeway).
    /// The keys are in different slots on a cluster: one `SET` each (one pipeline on a server).
    async fn deny(&self, tokens: &[(&str, i64)]) -> Result<(), ApiError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let commands: Vec<redis::Cmd> = tokens
            .iter()
            .filter(|(_, exp)| *exp > now)
            .map(|(jti, exp)| {
                let ttl = u64::try_from(exp - now).unwrap_or(1) + 60;
                let mut set = redis::cmd("SET");
                set.arg(deny_list_key(&self.key_prefix, jti))
                    .arg(1)
                    .arg("EX")
                    .arg(ttl);
                set
            })
            .collect();
        if commands.is_empty() {
            return Ok(());
        }
        let mut connection = self
            .redis
            .get()
            .await
            .context("cannot reach Redis to revoke tokens")
            .map_err(ApiError::Unavailable)?;
        connection
            .run_each(&commands)
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
        refresh.set_max_age(
            (issued.refresh_expires_at - OffsetDateTime::now_utc()).max(time::Duration::ZERO),
        );
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
