//! The public keys a verifier checks signatures with, chosen by the token's `kid`. Keys fetched
//! from auth-service's key set are fetched again every few minutes (in the background, on use)
//! and at once when a token names a `kid` the ring does not hold, at most once per interval, so
//! a rotation needs no restart and a flood of made-up `kid`s cannot turn into a flood of fetches.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::VerifyingKey;
use jsonwebtoken::{
    DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet},
};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::KeyError;

/// How often fetched keys are fetched again, and how soon after a fetch an unknown `kid` may
/// cause another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    pub every: Duration,
    pub min_interval: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(5 * 60),
            min_interval: Duration::from_secs(30),
        }
    }
}

/// The key id of an Ed25519 public key, as auth-service names it in its tokens and key set.
pub fn kid_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

/// Where fetched keys come from.
struct Source {
    url: String,
    client: reqwest::Client,
    policy: RefreshPolicy,
    /// When the last fetch was tried (a lock, so concurrent callers share one fetch).
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
}

struct Held {
    keys: Vec<(String, DecodingKey)>,
    fetched_at: Instant,
}

/// The keys, and where to fetch them again. Shared by every clone of a verifier.
pub(crate) struct KeyRing {
    held: RwLock<Held>,
    source: Option<Source>,
}

/// The Ed25519 keys of a JWKS document, with their `kid` (or the one derived from the key).
pub(crate) fn parse_jwks(jwks: &[u8]) -> Result<Vec<VerifyingKey>, KeyError> {
    let set: JwkSet = serde_json::from_slice(jwks)
        .map_err(|error| KeyError::InvalidKey(format!("not a JWK set: {error}")))?;
    let keys: Vec<VerifyingKey> = set
        .keys
        .iter()
        .filter_map(|jwk| match &jwk.algorithm {
            AlgorithmParameters::OctetKeyPair(pair) if pair.curve == EllipticCurve::Ed25519 => {
                let bytes = URL_SAFE_NO_PAD.decode(pair.x.trim_end_matches('=')).ok()?;
                let bytes: [u8; 32] = bytes.try_into().ok()?;
                VerifyingKey::from_bytes(&bytes).ok()
            }
            _ => None,
        })
        .collect();
    if keys.is_empty() {
        return Err(KeyError::InvalidKey(
            "the key set holds no Ed25519 key".into(),
        ));
    }
    Ok(keys)
}

fn decoding_keys(keys: &[VerifyingKey]) -> Vec<(String, DecodingKey)> {
    keys.iter()
        .map(|key| (kid_of(key), DecodingKey::from_ed_der(key.as_bytes())))
        .collect()
}

impl KeyRing {
    /// Keys that never change (a configured public key, auth-service's own).
    pub(crate) fn fixed(keys: &[VerifyingKey]) -> Self {
        Self {
            held: RwLock::new(Held {
                keys: decoding_keys(keys),
                fetched_at: Instant::now(),
            }),
            source: None,
        }
    }

    /// Keys fetched from `url`, fetched again as `policy` says.
    pub(crate) fn fetched(keys: &[VerifyingKey], url: String, policy: RefreshPolicy) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            held: RwLock::new(Held {
                keys: decoding_keys(keys),
                fetched_at: Instant::now(),
            }),
            source: Some(Source {
                url,
                client,
                policy,
                last_attempt: tokio::sync::Mutex::new(Some(Instant::now())),
            }),
        }
    }

    /// The same keys and source under another policy.
    pub(crate) fn with_policy(&self, policy: RefreshPolicy) -> Self {
        let held = self
            .held
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        Self {
            held: RwLock::new(Held {
                keys: held.keys.clone(),
                fetched_at: held.fetched_at,
            }),
            source: self.source.as_ref().map(|source| Source {
                url: source.url.clone(),
                client: source.client.clone(),
                policy,
                last_attempt: tokio::sync::Mutex::new(Some(Instant::now())),
            }),
        }
    }

    /// The key for `kid`; a token without `kid` only when the ring holds a single key.
    pub(crate) fn find(&self, kid: Option<&str>) -> Option<DecodingKey> {
        let held = self
            .held
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        match kid {
            Some(kid) => held
                .keys
                .iter()
                .find(|(id, _)| id == kid)
                .map(|(_, key)| key.clone()),
            None if held.keys.len() == 1 => Some(held.keys[0].1.clone()),
            None => None,
        }
    }

    /// Whether fetched keys are due to be fetched again.
    pub(crate) fn is_stale(&self) -> bool {
        let Some(source) = &self.source else {
            return false;
        };
        let held = self
            .held
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        held.fetched_at.elapsed() >= source.policy.every
    }

    /// Fetches the key set again, unless a fetch was tried less than the policy's minimum
    /// interval ago (then the caller waits for a fetch in progress, if any, and returns).
    pub(crate) async fn refresh(&self) {
        let Some(source) = &self.source else {
            return;
        };
        let mut last = source.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < source.policy.min_interval) {
            return;
        }
        *last = Some(Instant::now());
        let fetched = async {
            let response = source
                .client
                .get(&source.url)
                .send()
                .await
                .map_err(|error| error.to_string())?;
            if !response.status().is_success() {
                return Err(format!("status {}", response.status()));
            }
            let body = response.bytes().await.map_err(|error| error.to_string())?;
            parse_jwks(&body).map_err(|error| error.to_string())
        }
        .await;
        match fetched {
            Ok(keys) => {
                let mut held = self
                    .held
                    .write()
                    .unwrap_or_else(|poison| poison.into_inner());
                held.keys = decoding_keys(&keys);
                held.fetched_at = Instant::now();
                tracing::debug!(url = %source.url, keys = keys.len(), "key set refreshed");
            }
            Err(reason) => {
                tracing::warn!(url = %source.url, %reason, "cannot refresh the key set; keeping the keys held");
            }
        }
    }

    /// Refreshes in the background when due (never delays the request that noticed).
    pub(crate) fn refresh_if_stale(self: &Arc<Self>) {
        if self.is_stale() {
            let ring = self.clone();
            tokio::spawn(async move { ring.refresh().await });
        }
    }
}
