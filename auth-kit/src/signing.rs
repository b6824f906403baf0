//! Token minting with the Ed25519 private key (feature `signing`): auth-service's side of the
//! contract, kept next to the verifier so both agree on the format by construction.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    Signature, Signer, SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};

use crate::{Claims, KeyError, Verifier};

/// An Ed25519 key pair that signs access tokens.
#[derive(Clone)]
pub struct SigningKeys {
    key: SigningKey,
    encoding: EncodingKey,
    kid: String,
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
        let digest = Sha256::digest(key.verifying_key().as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..12]);
        Self { key, encoding, kid }
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

    /// The key id, derived from the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key set served at `GET /api/auth/jwks` (RFC 8037 OKP key).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
                "alg": "EdDSA",
                "use": "sig",
                "kid": self.kid,
            }]
        })
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

    /// A verifier for this key's tokens.
    pub fn verifier(&self, redis: deadpool_redis::Pool) -> Verifier {
        Verifier::from_verifying_key(&self.key.verifying_key(), redis)
    }
}
