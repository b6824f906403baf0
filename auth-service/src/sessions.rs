//! Sessions: a short-lived signed access token plus a long-lived, single-use refresh token
//! (256 random bits, stored as its SHA-256), both delivered as HttpOnly, SameSite=Strict cookies.
//! Rotation spends the presented refresh token and issues the next one in the same family, never
//! past the session's absolute end (`SESSION_MAX_LIFETIME_SECONDS` after sign-in); presenting a
//! spent or revoked token revokes the whole family. One exception keeps two tabs of one browser
//! from tripping that: a token spent less than [`REUSE_GRACE`] ago is answered with the same
//! successor it was rotated into (the successor is derived from it with the service's key, so it
//! can be given again without being stored). Logout revokes the family, "sign out everywhere"
//! every family of the user, and both deny-list the access tokens in Redis until they expire.
//! Those rules are the use cases (`usecases::refresh` ...); this module signs, derives, deny-lists
//! and builds the cookies.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use auth_kit::{ACCESS_COOKIE, Claims, REFRESH_COOKIE, Role, deny_list_key, signing::SigningKeys};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{
    db::{refresh_tokens, users::UserRow},
    domain::UserId,
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
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
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

/// Signs access tokens, derives refresh tokens, deny-lists and builds the cookies; the rules of
/// starting, rotating and ending a session are the use cases'. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    keys: Arc<SigningKeys>,
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
pub fn denials(issued: &[refresh_tokens::IssuedAccess]) -> Vec<(&str, i64)> {
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

/// What a refresh token is stored as: its SHA-256.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The role column as a [`Role`] (a stored role this build does not know is a 500).
pub fn parse_role(role: &str) -> Result<Role, ApiError> {
    role.parse::<Role>()
        .map_err(|error| ApiError::Internal(anyhow::anyhow!(error)))
}

impl Sessions {
    pub fn new(
        keys: Arc<SigningKeys>,
        redis: web_kit::redis_pool::RedisPool,
        key_prefix: String,
        lifetimes: Lifetimes,
        cookie_secure: bool,
    ) -> Self {
        Self {
            keys,
            redis,
            key_prefix,
            access_ttl: lifetimes.access,
            refresh_ttl: lifetimes.refresh,
            session_max_lifetime: lifetimes.session_max,
            cookie_secure,
        }
    }

    /// The absolute end of a session signed in now.
    pub fn session_expires_at(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.session_max_lifetime
    }

    /// When a refresh token issued now expires: its TTL, never past the session's end.
    pub fn refresh_expires_at(&self, session_expires_at: OffsetDateTime) -> OffsetDateTime {
        (OffsetDateTime::now_utc() + self.refresh_ttl).min(session_expires_at)
    }

    /// A new random refresh token (the first of a family).
    pub fn new_refresh_token() -> String {
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    }

    /// The refresh token that `token` rotates into: a keyed derivation, so it can be given again
    /// during [`REUSE_GRACE`] without being stored, and guessed by nobody without the key.
    pub fn successor_of(&self, token: &str) -> String {
        let signature = self
            .keys
            .sign_bytes(&[SUCCESSOR_CONTEXT, token.as_bytes()].concat());
        URL_SAFE_NO_PAD.encode(Sha256::digest(signature))
    }

    /// A new access token for `user`: its claims and the signed token.
    pub fn sign_new(&self, user: &UserRow) -> Result<(Claims, String), ApiError> {
        let claims = Claims::new(
            user.id.as_uuid(),
            &user.username,
            parse_role(&user.role)?,
            self.access_ttl,
        );
        let token = self.sign(&claims)?;
        Ok((claims, token))
    }

    /// The access token of an existing access id (`jti`) expiring at `access_expires_at`, signed
    /// again for `user` (the grace-period replay).
    pub fn sign_again(
        &self,
        user: &UserRow,
        jti: String,
        access_expires_at: OffsetDateTime,
    ) -> Result<(Claims, String), ApiError> {
        let exp = access_expires_at.unix_timestamp();
        let ttl = i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: user.id.as_uuid(),
            username: user.username.clone(),
            role: parse_role(&user.role)?,
            jti,
            iat: exp - ttl,
            exp,
            iss: auth_kit::ISSUER.to_owned(),
        };
        let token = self.sign(&claims)?;
        Ok((claims, token))
    }

    fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        Ok(self.keys.sign(claims).context("signing an access token")?)
    }

    /// Deny-lists access tokens `(jti, exp)` until their expiry (plus the verifiers' leeway).
    /// The keys are in different slots on a cluster: one `SET` each (one pipeline on a server).
    pub async fn deny(&self, tokens: &[(&str, i64)]) -> Result<(), ApiError> {
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
