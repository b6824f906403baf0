//! Keys and tokens for other crates' tests (feature `testing`): a fresh Ed25519 key pair, a
//! verifier over it, tokens minted with it, and the forged tokens a verifier must refuse.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::{Claims, Role, Verifier, signing::SigningKeys};

/// Lifetime of [`TestKeys::token`]'s tokens.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// A throw-away signing key.
#[derive(Debug, Clone)]
pub struct TestKeys {
    keys: SigningKeys,
}

impl TestKeys {
    pub fn generate() -> Self {
        Self {
            keys: SigningKeys::generate(),
        }
    }

    /// The public key in PEM, as `JWT_PUBLIC_KEY` would carry it.
    pub fn public_pem(&self) -> String {
        self.keys.public_pem()
    }

    /// The private key in PEM, as auth-service's `JWT_PRIVATE_KEY` would carry it.
    pub fn private_pem(&self) -> String {
        self.keys.private_pem()
    }

    /// The underlying signing keys.
    pub fn signing_keys(&self) -> &SigningKeys {
        &self.keys
    }

    pub fn verifier(&self, redis: web_kit::redis_pool::RedisPool) -> Verifier {
        self.keys.verifier(redis)
    }

    /// Claims for a token of that user, expiring in 15 minutes.
    pub fn claims(&self, user_id: Uuid, username: &str, role: Role) -> Claims {
        Claims::new(user_id, username, role, TOKEN_TTL)
    }

    /// A valid access token for that user, expiring in 15 minutes.
    pub fn token(&self, user_id: Uuid, username: &str, role: Role) -> String {
        self.sign(&self.claims(user_id, username, role))
    }

    /// Signs arbitrary claims with this key.
    pub fn sign(&self, claims: &Claims) -> String {
        self.keys.sign(claims).expect("signing with a test key")
    }

    /// A correctly signed token that expired ten minutes ago (beyond any leeway).
    pub fn expired_token(&self, user_id: Uuid, username: &str, role: Role) -> String {
        let mut claims = self.claims(user_id, username, role);
        claims.iat -= 25 * 60;
        claims.exp = claims.iat + 15 * 60;
        self.sign(&claims)
    }
}

/// The same claims with `alg: none` and no signature (must be refused).
pub fn unsigned_token(claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"));
    format!("{header}.{payload}.")
}

/// The same claims signed with HS256 using `secret` (e.g. the public key PEM: the classic
/// algorithm-confusion attack; must be refused).
pub fn hs256_token(claims: &Claims, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing")
}

/// A Redis pool for tests (`TEST_REDIS_URL`, default `redis://127.0.0.1:6379`).
pub fn redis_pool() -> web_kit::redis_pool::RedisPool {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    web_kit::redis_pool::create(&url, &[], None).expect("a valid Redis URL")
}

/// A unique Redis key prefix for one test (`test-<uuid>:`).
pub fn unique_prefix() -> String {
    format!("test-{}:", Uuid::new_v4().simple())
}
