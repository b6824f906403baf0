//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane),
//! always on the blocking pool and at most a few at a time, so a burst of logins neither stalls
//! the async runtime nor exhausts memory. Unknown emails are checked against a dummy hash so they
//! take as long as wrong passwords.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet (2025): argon2id, m = 19 MiB, t = 2, p = 1.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const LANES: u32 = 1;

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

impl Passwords {
    /// Prepares the hasher (computes the dummy hash once).
    pub async fn new() -> anyhow::Result<Self> {
        let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
            .map_err(|error| anyhow!("argon2 parameters: {error}"))?;
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut passwords = Self {
            params,
            permits: Arc::new(Semaphore::new(parallel * 2)),
            dummy_hash: Arc::new(String::new()),
        };
        let dummy: [u8; 24] = rand::random();
        let dummy = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, dummy);
        passwords.dummy_hash = Arc::new(passwords.hash(dummy).await?);
        Ok(passwords)
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || {
            Self::argon2(params)
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|error| anyhow!("argon2 hashing failed: {error}"))
        })
        .await
        .context("hashing task failed")?
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) it checks against the
    /// dummy hash, so both cases take the same time, and answers false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let params = self.params.clone();
        let matches = tokio::task::spawn_blocking(move || {
            Self::argon2(params)
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .context("verification task failed")?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_with_the_owasp_parameters_and_verifies() {
        let passwords = Passwords::new().await.unwrap();

        let hash = passwords.hash("correct horse".into()).await.unwrap();

        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("anything".into(), None).await.unwrap());
    }
}
