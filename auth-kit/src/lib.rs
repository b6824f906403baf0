//! Verification of the marketplace's access tokens, identical in every service: an EdDSA-signed
//! JWT read from the `access_token` HttpOnly cookie or an `Authorization: Bearer` header, checked
//! against auth-service's public key and the Redis deny-list that logout writes to.
//!
//! Only auth-service holds the private key; every other service can verify, never mint.
//! `AuthUser` and `AdminUser` are axum extractors: a handler that takes one is protected.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use web_kit::ErrorBody;

/// Cookie that carries the access token (HttpOnly, SameSite=Strict).
pub const ACCESS_COOKIE: &str = "access_token";
/// Cookie that carries the refresh token (HttpOnly, SameSite=Strict, path `/api/auth`).
pub const REFRESH_COOKIE: &str = "refresh_token";
/// The `iss` of every token.
pub const ISSUER: &str = "marketplace-auth";

/// The Redis key that marks access token `jti` as revoked (set by logout, with a TTL until the
/// token's expiry).
pub fn deny_list_key(jti: &str) -> String {
    format!("auth:denied:{jti}")
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
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

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            Self::Missing => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Invalid => (StatusCode::UNAUTHORIZED, "invalid_token"),
            Self::Expired => (StatusCode::UNAUTHORIZED, "token_expired"),
            Self::Revoked => (StatusCode::UNAUTHORIZED, "token_revoked"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        };
        ErrorBody::new(code, self.to_string()).into_response_with(status)
    }
}

/// Why a verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid public key: {0}")]
    InvalidKey(String),
    #[error("cannot fetch the key set from {url}: {reason}")]
    Fetch { url: String, reason: String },
}

/// Checks tokens: signature (EdDSA only; `alg: none` and every other algorithm are refused),
/// expiry, issuer, and the deny-list. Cheap to clone.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<VerifierInner>,
}

struct VerifierInner {
    redis: deadpool_redis::Pool,
}

impl Verifier {
    /// From an Ed25519 public key in PEM (`JWT_PUBLIC_KEY`).
    pub fn from_public_pem(pem: &[u8], redis: deadpool_redis::Pool) -> Result<Self, KeyError> {
        let _ = pem;
        let _ = Self {
            inner: Arc::new(VerifierInner { redis }),
        };
        todo!("auth-kit: from_public_pem")
    }

    /// From auth-service's `GET /api/auth/jwks`, retried with backoff for up to `patience` (the
    /// services may start before auth-service is ready).
    pub async fn fetch_jwks(
        auth_url: &str,
        redis: deadpool_redis::Pool,
        patience: std::time::Duration,
    ) -> Result<Self, KeyError> {
        let _ = (auth_url, redis, patience);
        todo!("auth-kit: fetch_jwks")
    }

    /// Verifies a token and its deny-list entry.
    pub async fn verify(&self, token: &str) -> Result<AuthUser, AuthError> {
        let _ = (token, &self.inner.redis);
        todo!("auth-kit: verify")
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let _ = (parts, Verifier::from_ref(state));
        todo!("auth-kit: extractor (Bearer header first, then the access_token cookie)")
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

/// Keys and tokens for other crates' tests (feature `testing`): a fresh Ed25519 key pair, a
/// verifier over it, and tokens minted with it.
#[cfg(feature = "testing")]
pub mod testing {
    use super::{Role, Verifier};
    use uuid::Uuid;

    /// A throw-away signing key.
    pub struct TestKeys {}

    impl TestKeys {
        pub fn generate() -> Self {
            todo!("auth-kit: TestKeys::generate")
        }

        /// The public key in PEM, as `JWT_PUBLIC_KEY` would carry it.
        pub fn public_pem(&self) -> String {
            todo!()
        }

        pub fn verifier(&self, redis: deadpool_redis::Pool) -> Verifier {
            let _ = redis;
            todo!()
        }

        /// A valid access token for that user, expiring in 15 minutes.
        pub fn token(&self, user_id: Uuid, username: &str, role: Role) -> String {
            let _ = (user_id, username, role);
            todo!()
        }
    }
}
