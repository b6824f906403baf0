//! Verification of the marketplace's access tokens, identical in every service: an EdDSA-signed
//! JWT read from an `Authorization: Bearer` header or the `access_token` HttpOnly cookie, checked
//! against auth-service's public key and the Redis deny-list that logout writes to.
//!
//! Only auth-service holds the private key (feature `signing`); every other service can verify,
//! never mint. `AuthUser` and `AdminUser` are axum extractors: a handler that takes one is
//! protected.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use ed25519_dalek::{VerifyingKey, pkcs8::DecodePublicKey};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use web_kit::ErrorBody;

use crate::keys::KeyRing;
pub use crate::keys::{RefreshPolicy, kid_of};

pub mod keys;
#[cfg(feature = "signing")]
pub mod signing;
#[cfg(feature = "testing")]
pub mod testing;

/// Cookie that carries the access token (HttpOnly, SameSite=Strict).
pub const ACCESS_COOKIE: &str = "access_token";
/// Cookie that carries the refresh token (HttpOnly, SameSite=Strict, path `/api/auth`).
pub const REFRESH_COOKIE: &str = "refresh_token";
/// The `iss` of every token.
pub const ISSUER: &str = "marketplace-auth";

/// Tolerated clock difference between the minting and the verifying host.
const LEEWAY_SECONDS: u64 = 30;
/// Longest wait for the deny-list before failing closed.
const DENY_LIST_TIMEOUT: Duration = Duration::from_secs(2);

/// The Redis key that marks access token `jti` as revoked (set by logout, with a TTL until the
/// token's expiry). `prefix` is the service's `REDIS_KEY_PREFIX` (empty in production).
pub fn deny_list_key(prefix: &str, jti: &str) -> String {
    format!("{prefix}auth:denied:{jti}")
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    /// The lowercase name, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    pub username: String,
    pub role: Role,
    /// Token id, the deny-list key.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

impl Claims {
    /// Fresh claims for a token that lives `ttl` from now, with a new random `jti`.
    pub fn new(user_id: Uuid, username: &str, role: Role, ttl: Duration) -> Self {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        Self {
            sub: user_id,
            username: username.to_owned(),
            role,
            jti: Uuid::new_v4().simple().to_string(),
            iat: now,
            exp: now.saturating_add(ttl),
            iss: ISSUER.to_owned(),
        }
    }
}

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub token_id: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A signed-in caller whose role is admin (403 for anyone else).
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

/// Why a request is not authenticated or not allowed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("sign in to continue")]
    Missing,
    #[error("your session is not valid; sign in again")]
    Invalid,
    #[error("your session has expired")]
    Expired,
    #[error("your session was ended; sign in again")]
    Revoked,
    #[error("only administrators may do this")]
    Forbidden,
    /// The deny-list cannot be read: fail closed, as a 503.
    #[error("cannot check the session right now")]
    Unavailable,
}

impl AuthError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Missing | Self::Invalid | Self::Expired | Self::Revoked => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The machine-readable code of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "unauthorized",
            Self::Invalid => "invalid_token",
            Self::Expired => "token_expired",
            Self::Revoked => "token_revoked",
            Self::Forbidden => "forbidden",
            Self::Unavailable => "unavailable",
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        if let Self::Unavailable = self {
            return web_kit::error::unavailable(self.code(), &self.to_string());
        }
        let status = self.status();
        ErrorBody::new(self.code(), self.to_string()).into_response_with(status)
    }
}

/// Why a verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid public key: {0}")]
    InvalidKey(String),
    /// A signing key (feature `signing`) that cannot be used.
    #[error("invalid private key: {0}")]
    InvalidPrivateKey(String),
    #[error("cannot fetch the key set from {url}: {reason}")]
    Fetch { url: String, reason: String },
}

/// Where a service gets the public key that verifies access tokens (its settings choose; see
/// [`Verifier::from_source`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// auth-service's base URL; its `GET /api/auth/jwks` is fetched at start-up.
    Url(String),
    /// An Ed25519 public key in PEM.
    PublicKeyPem(String),
}

impl KeySource {
    /// The public key when the settings give one (escaped `\n` newlines, as some environment
    /// files carry them, are unescaped), else auth-service's key set at `auth_url`.
    pub fn pem_or_url(public_key_pem: Option<String>, auth_url: String) -> Self {
        match public_key_pem {
            Some(pem) => Self::PublicKeyPem(pem.replace("\\n", "\n")),
            None => Self::Url(auth_url),
        }
    }
}

/// Checks tokens: signature (EdDSA only; `alg: none` and every other algorithm are refused) with
/// the key the token's `kid` names, expiry, `nbf` when present, issuer, and the deny-list. Cheap
/// to clone.
#[derive(Clone)]
pub struct Verifier {
    ring: Arc<KeyRing>,
    validation: Arc<Validation>,
    redis: web_kit::redis_pool::RedisPool,
    key_prefix: Arc<str>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    // A token that says it is not valid yet (`nbf` ahead, beyond the leeway) is refused.
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECONDS;
    validation
}

impl Verifier {
    fn with_ring(ring: KeyRing, redis: web_kit::redis_pool::RedisPool) -> Self {
        Self {
            ring: Arc::new(ring),
            validation: Arc::new(validation()),
            redis,
            key_prefix: Arc::from(""),
        }
    }

    /// From an Ed25519 public key in PEM (`JWT_PUBLIC_KEY`). Escaped newlines (`\n` written as two
    /// characters, as some environment files carry them) are accepted.
    pub fn from_public_pem(
        pem: &[u8],
        redis: web_kit::redis_pool::RedisPool,
    ) -> Result<Self, KeyError> {
        let pem = std::str::from_utf8(pem)
            .map_err(|_| KeyError::InvalidKey("the PEM is not UTF-8 text".into()))?
            .replace("\\n", "\n");
        let key = VerifyingKey::from_public_key_pem(pem.trim())
            .map_err(|error| KeyError::InvalidKey(format!("not an Ed25519 public key: {error}")))?;
        Ok(Self::from_verifying_key(&key, redis))
    }

    /// From a parsed Ed25519 public key.
    pub fn from_verifying_key(key: &VerifyingKey, redis: web_kit::redis_pool::RedisPool) -> Self {
        Self::from_verifying_keys(std::slice::from_ref(key), redis)
    }

    /// From several Ed25519 public keys (a signing key and the ones it replaced), each chosen by
    /// its `kid`.
    pub fn from_verifying_keys(
        keys: &[VerifyingKey],
        redis: web_kit::redis_pool::RedisPool,
    ) -> Self {
        Self::with_ring(KeyRing::fixed(keys), redis)
    }

    /// From a JWKS document (`{"keys": [...]}`): its Ed25519 keys (never fetched again).
    pub fn from_jwks(jwks: &[u8], redis: web_kit::redis_pool::RedisPool) -> Result<Self, KeyError> {
        Ok(Self::from_verifying_keys(&keys::parse_jwks(jwks)?, redis))
    }

    /// From auth-service's `GET /api/auth/jwks`, retried with backoff for up to `patience` (the
    /// services may start before auth-service is ready); fetched again as [`RefreshPolicy`]'s
    /// default says (every 5 minutes, and on an unknown `kid` at most every 30 s).
    pub async fn fetch_jwks(
        auth_url: &str,
        redis: web_kit::redis_pool::RedisPool,
        patience: Duration,
    ) -> Result<Self, KeyError> {
        let url = format!("{}/api/auth/jwks", auth_url.trim_end_matches('/'));
        let fetch_error = |reason: String| KeyError::Fetch {
            url: url.clone(),
            reason,
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| fetch_error(error.to_string()))?;
        let deadline = tokio::time::Instant::now() + patience;
        let mut delay = Duration::from_millis(100);
        loop {
            let reason = match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => {
                    let body = response
                        .bytes()
                        .await
                        .map_err(|error| fetch_error(error.to_string()));
                    match body {
                        Ok(body) => {
                            let keys = keys::parse_jwks(&body)?;
                            let ring = KeyRing::fetched(&keys, url, RefreshPolicy::default());
                            return Ok(Self::with_ring(ring, redis));
                        }
                        Err(error) => error.to_string(),
                    }
                }
                Ok(response) => format!("status {}", response.status()),
                Err(error) => error.to_string(),
            };
            if tokio::time::Instant::now() + delay > deadline {
                return Err(fetch_error(reason));
            }
            tracing::warn!(%url, %reason, retry_in_ms = delay.as_millis() as u64, "key set not available yet");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// From either source: the PEM is parsed ([`Self::from_public_pem`]), the URL's key set is
    /// fetched, retried for up to `patience` ([`Self::fetch_jwks`]).
    pub async fn from_source(
        source: &KeySource,
        redis: web_kit::redis_pool::RedisPool,
        patience: Duration,
    ) -> Result<Self, KeyError> {
        match source {
            KeySource::PublicKeyPem(pem) => Self::from_public_pem(pem.as_bytes(), redis),
            KeySource::Url(url) => Self::fetch_jwks(url, redis, patience).await,
        }
    }

    /// The same verifier fetching its key set again as `policy` says (tests shorten it).
    pub fn with_refresh_policy(self, policy: RefreshPolicy) -> Self {
        Self {
            ring: Arc::new(self.ring.with_policy(policy)),
            ..self
        }
    }

    /// The same verifier, reading deny-list keys under `prefix` (the service's
    /// `REDIS_KEY_PREFIX`).
    pub fn with_key_prefix(self, prefix: impl Into<String>) -> Self {
        Self {
            key_prefix: Arc::from(prefix.into()),
            ..self
        }
    }

    /// The Redis key prefix of the deny-list.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    fn decode_with(&self, token: &str, key: &DecodingKey) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })
    }

    /// Checks signature (with the key held for the token's `kid`), algorithm, issuer and expiry,
    /// without the deny-list and without fetching keys.
    pub fn decode(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let key = self
            .ring
            .find(header.kid.as_deref())
            .ok_or(AuthError::Invalid)?;
        self.decode_with(token, &key)
    }

    /// Verifies a token and its deny-list entry. A `kid` the verifier does not hold makes it
    /// fetch the key set again first (at most every 30 s): a new key signs after a rotation.
    pub async fn verify(&self, token: &str) -> Result<AuthUser, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        self.ring.refresh_if_stale();
        let kid = header.kid.as_deref();
        let key = match self.ring.find(kid) {
            Some(key) => key,
            None if kid.is_some() => {
                self.ring.refresh().await;
                self.ring.find(kid).ok_or(AuthError::Invalid)?
            }
            None => return Err(AuthError::Invalid),
        };
        let claims = self.decode_with(token, &key)?;
        if self.is_denied(&claims.jti).await? {
            return Err(AuthError::Revoked);
        }
        Ok(AuthUser {
            id: claims.sub,
            username: claims.username,
            role: claims.role,
            token_id: claims.jti,
            expires_at: claims.exp,
        })
    }

    /// Whether the token with id `jti` was revoked since it was verified (a long-lived response,
    /// such as an event stream, checks again now and then).
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, AuthError> {
        self.is_denied(jti).await
    }

    /// Whether token `jti` was revoked; an unreadable deny-list is `Unavailable` (fail closed).
    async fn is_denied(&self, jti: &str) -> Result<bool, AuthError> {
        use redis::AsyncCommands;
        let key = deny_list_key(&self.key_prefix, jti);
        let lookup = async {
            let mut connection = self.redis.get().await.map_err(|error| error.to_string())?;
            connection
                .exists::<_, bool>(&key)
                .await
                .map_err(|error| error.to_string())
        };
        match tokio::time::timeout(DENY_LIST_TIMEOUT, lookup).await {
            Ok(Ok(denied)) => Ok(denied),
            Ok(Err(error)) => {
                tracing::error!(%error, "cannot read the token deny-list");
                Err(AuthError::Unavailable)
            }
            Err(_) => {
                tracing::error!("timed out reading the token deny-list");
                Err(AuthError::Unavailable)
            }
        }
    }
}

/// The token of a request: `Authorization: Bearer <token>` first, else the `access_token`
/// cookie.
pub fn token_from_parts(parts: &Parts) -> Option<String> {
    token_from_headers(&parts.headers)
}

/// [`token_from_parts`] over bare headers.
pub fn token_from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    if let Some(token) = bearer {
        return Some(token.to_owned());
    }
    axum_extra::extract::CookieJar::from_headers(headers)
        .get(ACCESS_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|token| !token.is_empty())
}

impl<S> FromRequestParts<S> for AuthUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let token = token_from_parts(parts).ok_or(AuthError::Missing)?;
        let user = Verifier::from_ref(state).verify(&token).await?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// `Option<AuthUser>`: `None` when the request carries no token at all; a token that is present
/// but invalid, expired or revoked is still refused.
impl<S> axum::extract::OptionalFromRequestParts<S> for AuthUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        if token_from_parts(parts).is_none() {
            return Ok(None);
        }
        <Self as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

impl<S> FromRequestParts<S> for AdminUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Self(user))
        } else {
            Err(AuthError::Forbidden)
        }
    }
}
