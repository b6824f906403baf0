//! Keys and tokens for other crates' tests (feature `testing`): a fresh Ed25519 key pair, a
//! verifier over it, tokens minted with it, the forged tokens a verifier must refuse, and the
//! assertion that a service's routes refuse them.

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

/// A token a service must refuse with 401, and the error code it answers with.
#[derive(Debug, Clone)]
pub struct Forgery {
    /// What the attack is, for assertion messages.
    pub attack: &'static str,
    pub token: String,
    /// The `error.code` of the 401's body.
    pub code: &'static str,
}

impl TestKeys {
    /// Signs an arbitrary JSON payload with this key (header `alg: EdDSA` and this key's `kid`),
    /// for claims [`Claims`] cannot express (`nbf`, a missing `exp`).
    pub fn sign_json(&self, payload: &serde_json::Value) -> String {
        sign_json_as(&self.keys, self.keys.kid(), payload)
    }

    /// Every forged, stale or foreign token for that user that a service must refuse (401), each
    /// with the code it answers: a role claim tampered from user to admin, `alg: none`, HS256
    /// keyed with the public key, another key (under this key's `kid` too), expired, not yet
    /// valid (`nbf` ahead), another issuer, no expiry, and garbage. A revoked token needs the
    /// service's Redis: see [`crate::deny_list_key`].
    pub fn forgeries(&self, user_id: Uuid, username: &str) -> Vec<Forgery> {
        let claims = self.claims(user_id, username, Role::User);
        let admin = self.claims(user_id, username, Role::Admin);
        let as_json = |claims: &Claims| serde_json::to_value(claims).expect("claims serialise");
        let mut parts: Vec<String> = self.sign(&claims).split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(as_json(&admin).to_string());
        let tampered = parts.join(".");
        let other = TestKeys::generate();
        let under_our_kid = sign_json_as(&other.keys, self.keys.kid(), &as_json(&admin));
        let mut not_yet = as_json(&claims);
        not_yet["nbf"] = (claims.iat + 3600).into();
        not_yet["iat"] = (claims.iat + 3600).into();
        let mut foreign = claims.clone();
        foreign.iss = "someone-else".into();
        let mut endless = as_json(&admin);
        endless.as_object_mut().expect("an object").remove("exp");
        let forgery = |attack, token, code| Forgery {
            attack,
            token,
            code,
        };
        vec![
            forgery("role claim tampered to admin", tampered, "invalid_token"),
            forgery("alg none", unsigned_token(&admin), "invalid_token"),
            forgery(
                "HS256 keyed with the public key",
                hs256_token(&admin, self.public_pem().as_bytes()),
                "invalid_token",
            ),
            forgery(
                "signed by another key",
                other.token(user_id, username, Role::Admin),
                "invalid_token",
            ),
            forgery(
                "signed by another key under our kid",
                under_our_kid,
                "invalid_token",
            ),
            forgery(
                "expired",
                self.expired_token(user_id, username, Role::User),
                "token_expired",
            ),
            forgery("not yet valid", self.sign_json(&not_yet), "invalid_token"),
            forgery("another issuer", self.sign(&foreign), "invalid_token"),
            forgery("no expiry", self.sign_json(&endless), "invalid_token"),
            forgery("garbage", "not.a.token".to_owned(), "invalid_token"),
        ]
    }
}

/// Malformed credentials, each a header as `(name, raw value)`: a bearer without a token, another
/// scheme, bytes that are not text, a truncated or padded token, empty or garbage cookies. A
/// service answers each with 401 (`unauthorized` or `invalid_token`) and the JSON error body.
pub fn malformed_credentials(valid_token: &str) -> Vec<(&'static str, Vec<u8>)> {
    let (truncated, _) = valid_token.rsplit_once('.').expect("a compact JWT");
    vec![
        ("authorization", b"Bearer".to_vec()),
        ("authorization", b"Bearer    ".to_vec()),
        ("authorization", b"Basic YWxpY2U6c2VjcmV0".to_vec()),
        ("authorization", b"Bearer \xff\xfe\x80".to_vec()),
        ("authorization", format!("Bearer {truncated}").into_bytes()),
        (
            "authorization",
            format!("Bearer {valid_token} extra").into_bytes(),
        ),
        (
            "authorization",
            format!("Bearer {valid_token}.").into_bytes(),
        ),
        ("cookie", b"access_token=".to_vec()),
        ("cookie", b"access_token".to_vec()),
        ("cookie", b"access_token=\xff\xfe".to_vec()),
        ("cookie", b"access_token=\"a.b.c\"".to_vec()),
        ("cookie", format!("access_token={truncated}").into_bytes()),
    ]
}

/// `payload` signed by `keys` under header `kid` (which need not be theirs).
fn sign_json_as(keys: &SigningKeys, kid: &str, payload: &serde_json::Value) -> String {
    let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = URL_SAFE_NO_PAD.encode(keys.sign_bytes(input.as_bytes()));
    format!("{input}.{signature}")
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

/// Revokes `token` as logout does: its `jti` on the deny-list under `prefix` (the service's
/// `REDIS_KEY_PREFIX`), for a minute.
pub async fn revoke(redis: &web_kit::redis_pool::RedisPool, prefix: &str, token: &str) {
    use redis::AsyncCommands;
    let payload = token.split('.').nth(1).expect("a compact JWT");
    let claims: Claims = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(payload)
            .expect("a base64url payload"),
    )
    .expect("the token's claims");
    let mut connection = redis.get().await.expect("a Redis connection");
    let () = connection
        .set_ex(crate::deny_list_key(prefix, &claims.jti), "1", 60)
        .await
        .expect("SET on the deny-list");
}

/// A Redis pool on the tests' shared Redis ([`web_kit::testing::redis_url`]).
pub fn redis_pool() -> web_kit::redis_pool::RedisPool {
    web_kit::redis_pool::create(&web_kit::testing::redis_url(), &[], None)
        .expect("a valid Redis URL")
}

/// Sends `request` and checks that it is answered 401 with the JSON error body; returns the body.
pub async fn assert_unauthorized(
    request: reqwest::RequestBuilder,
    what: &str,
) -> serde_json::Value {
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    assert_eq!(status, 401, "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
    body
}

/// `token` is refused with error `code` on every request `attempts` builds (named for the
/// message), sent with it as a Bearer token and as the session cookie.
pub async fn assert_refused_everywhere<const N: usize>(
    attempts: impl Fn() -> [(&'static str, reqwest::RequestBuilder); N],
    token: &str,
    code: &str,
    attack: &str,
) {
    for (route, request) in attempts() {
        let what = format!("{attack} on {route} (bearer)");
        let body = assert_unauthorized(request.bearer_auth(token), &what).await;
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
    }
    for (route, request) in attempts() {
        let what = format!("{attack} on {route} (cookie)");
        let cookie = format!("{}={token}", crate::ACCESS_COOKIE);
        let body = assert_unauthorized(request.header("cookie", cookie), &what).await;
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
    }
}
