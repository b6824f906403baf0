//! Device cookies, so that guessing an account's password cannot lock its owner out (OWASP's
//! "slow brute force" defence). A successful sign-in gives the browser a cookie naming the
//! account, signed with the service's key. A login attempt carrying a valid cookie for the
//! account it names is counted against that device alone, not against the account-wide limit
//! that every unknown browser shares, so an attacker's storm locks out the attacker (and other
//! unknown browsers) while the owner keeps signing in from their own.
//!
//! The cookie: base64url of `account tag (16) || nonce (16) || issued at (8, big-endian unix
//! seconds) || Ed25519 signature (64)` over a context string and those 40 bytes. Nothing is
//! stored: a forged or altered cookie fails the signature; an old one expires.

use std::{sync::Arc, time::Duration};

use auth_kit::signing::SigningKeys;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use time::OffsetDateTime;

use crate::rate_limit::{account_digest, hex};

/// The cookie's name.
pub const DEVICE_COOKIE: &str = "device";
/// Only the login route receives it.
pub const DEVICE_COOKIE_PATH: &str = "/api/auth/login";
/// How long a browser stays known after its last successful sign-in.
pub const DEVICE_LIFETIME: Duration = Duration::from_secs(180 * 24 * 60 * 60);

const CONTEXT: &[u8] = b"marketplace auth-service device cookie v1\0";
const PAYLOAD: usize = 16 + 16 + 8;

/// Issues and recognises device cookies. Cheap to clone.
#[derive(Clone)]
pub struct Devices {
    keys: Arc<SigningKeys>,
    cookie_secure: bool,
}

/// A browser that signed in to the account before; `id` names its own failure counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub id: String,
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    [CONTEXT, payload].concat()
}

impl Devices {
    pub fn new(keys: Arc<SigningKeys>, cookie_secure: bool) -> Self {
        Self {
            keys,
            cookie_secure,
        }
    }

    /// The device behind the request's cookie, when it is valid for the account of `email`.
    pub fn recognise(&self, jar: &CookieJar, email: &str) -> Option<KnownDevice> {
        let bytes = URL_SAFE_NO_PAD
            .decode(jar.get(DEVICE_COOKIE)?.value())
            .ok()?;
        let (payload, signature) = bytes.split_at_checked(PAYLOAD)?;
        let signature: &[u8; 64] = signature.try_into().ok()?;
        if !self.keys.verify_bytes(&signed_message(payload), signature) {
            return None;
        }
        let (account, rest) = payload.split_at(16);
        let (nonce, issued_at) = rest.split_at(16);
        if account != account_digest(email) {
            return None;
        }
        let issued_at = i64::from_be_bytes(issued_at.try_into().ok()?);
        let age = OffsetDateTime::now_utc().unix_timestamp() - issued_at;
        let lifetime = i64::try_from(DEVICE_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        if !(-60..lifetime).contains(&age) {
            return None;
        }
        Some(KnownDevice { id: hex(nonce) })
    }

    /// Adds a fresh device cookie for the account of `email` (after a successful sign-in).
    pub fn remember(&self, jar: CookieJar, email: &str) -> CookieJar {
        let mut payload = Vec::with_capacity(PAYLOAD + 64);
        payload.extend_from_slice(&account_digest(email));
        payload.extend_from_slice(&rand::random::<[u8; 16]>());
        payload.extend_from_slice(&OffsetDateTime::now_utc().unix_timestamp().to_be_bytes());
        let signature = self.keys.sign_bytes(&signed_message(&payload));
        payload.extend_from_slice(&signature);
        let cookie = Cookie::build((DEVICE_COOKIE, URL_SAFE_NO_PAD.encode(payload)))
            .http_only(true)
            .secure(self.cookie_secure)
            .same_site(SameSite::Strict)
            .path(DEVICE_COOKIE_PATH)
            .max_age(time::Duration::seconds(
                i64::try_from(DEVICE_LIFETIME.as_secs()).unwrap_or(i64::MAX),
            ))
            .build();
        jar.add(cookie)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices() -> Devices {
        Devices::new(Arc::new(SigningKeys::generate()), true)
    }

    fn cookie_of(jar: &CookieJar) -> String {
        jar.get(DEVICE_COOKIE).unwrap().value().to_owned()
    }

    fn jar_with(value: String) -> CookieJar {
        CookieJar::new().add(Cookie::new(DEVICE_COOKIE, value))
    }

    #[test]
    fn a_cookie_is_recognised_for_its_account_only_case_insensitively() {
        let devices = devices();
        let jar = devices.remember(CookieJar::new(), "Alice@Example.com");

        let known = devices.recognise(&jar, "alice@example.com");

        assert!(known.is_some());
        assert_eq!(devices.recognise(&jar, "bob@example.com"), None);
    }

    #[test]
    fn two_sign_ins_are_two_devices() {
        let devices = devices();
        let first = devices.remember(CookieJar::new(), "alice@example.com");
        let second = devices.remember(CookieJar::new(), "alice@example.com");

        assert_ne!(
            devices.recognise(&first, "alice@example.com"),
            devices.recognise(&second, "alice@example.com")
        );
    }

    #[test]
    fn an_altered_or_foreign_cookie_is_not_recognised() {
        let devices = devices();
        let value = cookie_of(&devices.remember(CookieJar::new(), "alice@example.com"));
        let mut bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
        bytes[20] ^= 1;
        let altered = URL_SAFE_NO_PAD.encode(&bytes);
        let other_key = cookie_of(&self::devices().remember(CookieJar::new(), "alice@example.com"));

        for value in [altered, other_key, "garbage".to_owned(), String::new()] {
            assert_eq!(
                devices.recognise(&jar_with(value.clone()), "alice@example.com"),
                None,
                "{value}"
            );
        }
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_to_login() {
        let jar = devices().remember(CookieJar::new(), "alice@example.com");
        let cookie = jar.get(DEVICE_COOKIE).unwrap();

        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert_eq!(cookie.path(), Some(DEVICE_COOKIE_PATH));
    }
}
