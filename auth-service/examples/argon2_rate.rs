//! Raw argon2id verifications per second with auth-service's own parameters, one thread per core:
//! the ceiling bench/run compares login throughput against. Prints one JSON line.
//!
//! `cargo run --release -p auth-service --example argon2_rate -- [seconds] [threads]`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use auth_service::passwords::{ITERATIONS, LANES, MEMORY_KIB};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(5.0), |s| s.parse())?;
    let threads: usize = match args.next() {
        Some(n) => n.parse()?,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash = argon2
        .hash_password(b"bench-password")
        .map_err(|error| anyhow::anyhow!("argon2 hashing failed: {error}"))?
        .to_string();

    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let ok = argon2
                        .verify_password(b"bench-password", hash.as_str())
                        .is_ok();
                    assert!(ok, "the hash must verify");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    let elapsed = started.elapsed().as_secs_f64();
    let verified = done.load(Ordering::Relaxed);
    println!(
        "{{\"kind\":\"argon2\",\"hashes\":{verified},\"seconds\":{elapsed:.3},\"threads\":{threads},\
         \"rate\":{:.1},\"params\":\"m={MEMORY_KIB},t={ITERATIONS},p={LANES}\"}}",
        verified as f64 / elapsed
    );
    Ok(())
}
