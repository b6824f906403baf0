//! Token minting with the Ed25519 private key (feature `signing`): auth-service's side of the
//! contract, kept next to the verifier so both agree on the format by construction.

use crate::{Claims, KeyError, Verifier, kid_of};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    Signature, Signer, SigningKey, VerifyingKey,
    pkcs8::{
        DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
        spki::der::pem::LineEnding,
    },
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// An Ed25519 key pair that signs access tokens, and the public keys of the keys it replaced
/// (still published and accepted, so their tokens stay valid until they expire).
#[derive(Clone)]
pub struct SigningKeys {
    key: SigningKey,
    encoding: EncodingKey,
    kid: String,
    previous: Vec<VerifyingKey>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// A fresh random key (the OS's randomness through `rand`).
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::random();
        Self::from_signing_key(SigningKey::from_bytes(&seed))
    }

    /// From a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey
    /// -algorithm ed25519` writes it). Escaped newlines (`\n` as two characters) are accepted.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.replace("\\n", "\n");
        let key = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|error| {
            KeyError::InvalidPrivateKey(format!("not an Ed25519 PKCS#8 private key: {error}"))
        })?;
        Ok(Self::from_signing_key(key))
    }

    fn from_signing_key(key: SigningKey) -> Self {
        let der = key
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        let encoding = EncodingKey::from_ed_der(der.as_bytes());
        let kid = kid_of(&key.verifying_key());
        Self {
            key,
            encoding,
            kid,
            previous: Vec::new(),
        }
    }

    /// The same signing key, also publishing and accepting the retired public keys in `pems`
    /// (one or more SPKI PEM blocks, as `openssl pkey -pubout` writes them; escaped newlines are
    /// accepted).
    pub fn with_previous(mut self, pems: &str) -> Result<Self, KeyError> {
        let pems = pems.replace("\\n", "\n");
        const END: &str = "-----END PUBLIC KEY-----";
        for block in pems.split_inclusive(END).map(str::trim) {
            if block.is_empty() {
                continue;
            }
            let key = VerifyingKey::from_public_key_pem(block).map_err(|error| {
                KeyError::InvalidKey(format!("not an Ed25519 public key: {error}"))
            })?;
            if key != self.key.verifying_key() && !self.previous.contains(&key) {
                self.previous.push(key);
            }
        }
        Ok(self)
    }

    /// Every public key: the signing one first, then the retired ones.
    fn public_keys(&self) -> Vec<VerifyingKey> {
        std::iter::once(self.key.verifying_key())
            .chain(self.previous.iter().copied())
            .collect()
    }

    /// The private key as PKCS#8 PEM (what `JWT_PRIVATE_KEY` carries).
    pub fn private_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes as PEM")
            .to_string()
    }

    /// The public key as SPKI PEM (what `JWT_PUBLIC_KEY` carries).
    pub fn public_pem(&self) -> String {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes as PEM")
    }

    /// The public key of the signing key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The key id, derived from the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key set served at `GET /api/auth/jwks` (RFC 8037 OKP keys): the signing key
    /// and the retired ones.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .public_keys()
            .iter()
            .map(|key| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": kid_of(key),
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// Signs `claims` into a compact JWT (header `alg: EdDSA`, `kid`).
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// A detached Ed25519 signature of `message`, for auth-service's own opaque tokens (device
    /// cookies). Callers start `message` with a context string of their own, so a signature made
    /// for one purpose never verifies for another (a JWT's signing input starts with its base64
    /// header).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// Whether `signature` is this key's signature of `message` ([`Self::sign_bytes`]).
    pub fn verify_bytes(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verifying_key()
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }

    /// A verifier for this key's tokens and the retired keys'.
    pub fn verifier(&self, redis: web_kit::redis_pool::RedisPool) -> Verifier {
        Verifier::from_verifying_keys(&self.public_keys(), redis)
    }
}
