//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane) on
//! a small fixed set of threads (one per core, at the lowest CPU priority so that request handling
//! here and everywhere else on the machine wins the CPU), each reusing one block buffer of its
//! own. A burst
//! of logins queues for them (a bounded queue; a full one makes callers wait, asynchronously)
//! instead of spawning threads: the async runtime never blocks, and memory stays at one buffer per
//! thread (glibc keeps a freed 19 MiB in each thread's arena, so a hash per blocking-pool thread
//! once grew the service by hundreds of MB). A thread gives its buffer back after
//! [`KEEP_BUFFER_FOR`] without work, so an idle service holds none (the seeded accounts' hashes at
//! start-up no longer keep 19 MiB per thread for good); the first hash after a pause pays for
//! faulting the buffer in again. Unknown emails are checked against a dummy hash so they take as
//! long as wrong passwords.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread::ThreadId,
    time::Duration,
};

use anyhow::{Context, anyhow};
use argon2::{
    Algorithm, Argon2, Block, Params, PasswordVerifier, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use tokio::sync::{mpsc, oneshot};

/// OWASP Password Storage Cheat Sheet (2025): argon2id, m = 19 MiB, t = 2, p = 1.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const LANES: u32 = 1;

/// The hashing threads' nice value, the lowest priority there is: under a login storm the rest of
/// this service (its async workers answer every other request) and the other processes on the
/// machine (the catalog, PostgreSQL) get the CPU first, and the hashes take what is left, which
/// on an otherwise quiet machine is all of it.
pub const HASHING_NICE: i32 = 19;

/// Jobs that may wait for a hashing thread, per thread; past that, callers wait to enqueue.
const QUEUE_PER_THREAD: usize = 64;

/// How long a hashing thread keeps its block buffer without a job before it frees it. Long
/// enough that a stream of logins never pays for a fresh 19 MiB; short enough that a quiet
/// service gives the memory back within seconds.
pub const KEEP_BUFFER_FOR: Duration = Duration::from_secs(5);

/// What unknown accounts are checked against: a valid PHC string with our parameters (its
/// password is nobody's), so the check costs what a real one does and no hash runs at start-up.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$QGjt813M4oh6zalkGIdTdA$\
                          bU1CphCh4VBkeI8tjBUxF6k68yHG2BERr8tLrpisHDA";

/// Hashes and verifies passwords on the hashing threads. Cheap to clone; the threads stop when
/// the last clone is dropped.
#[derive(Clone)]
pub struct Passwords {
    jobs: mpsc::Sender<Job>,
    load: Arc<Load>,
    threads: usize,
}

/// One unit of work and where its answer goes.
enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<anyhow::Result<String>>,
    },
    Verify {
        password: String,
        hash: String,
        reply: oneshot::Sender<bool>,
    },
}

impl Job {
    /// The caller gave up (its request was cancelled): nobody reads the answer.
    fn abandoned(&self) -> bool {
        match self {
            Self::Hash { reply, .. } => reply.is_closed(),
            Self::Verify { reply, .. } => reply.is_closed(),
        }
    }
}

/// How much hashing runs at once, and on which threads (what the bound is checked against).
#[derive(Default)]
struct Load {
    busy: AtomicUsize,
    peak: AtomicUsize,
    threads_seen: Mutex<HashSet<ThreadId>>,
    /// Block buffers the hashing threads hold right now.
    buffers: AtomicUsize,
}

impl Load {
    fn start(&self) {
        let busy = self.busy.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(busy, Ordering::SeqCst);
        if let Ok(mut seen) = self.threads_seen.lock() {
            seen.insert(std::thread::current().id());
        }
    }

    fn finish(&self) {
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Passwords {
    /// One hashing thread per core.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// `threads` hashing threads (at least one).
    pub fn with_threads(threads: usize) -> anyhow::Result<Self> {
        Self::start(
            threads.max(1),
            threads.max(1) * QUEUE_PER_THREAD,
            KEEP_BUFFER_FOR,
        )
    }

    /// `threads` hashing threads, room for `queue` waiting jobs, buffers kept `keep_buffer`
    /// without work.
    fn start(threads: usize, queue: usize, keep_buffer: Duration) -> anyhow::Result<Self> {
        let params = params()?;
        let (jobs, receiver) = mpsc::channel(queue.max(1));
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let load = Arc::new(Load::default());
        for index in 0..threads {
            let receiver = receiver.clone();
            let load = load.clone();
            let params = params.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&receiver, &params, &load, keep_buffer))
                .context("starting a password hashing thread")?;
        }
        Ok(Self {
            jobs,
            load,
            threads,
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply }).await?;
        answer.await.context("the hashing thread stopped")?
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) it checks against the
    /// dummy hash, so both cases take the same time, and answers false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            hash,
            reply,
        })
        .await?;
        let matches = answer.await.context("the hashing thread stopped")?;
        Ok(known && matches)
    }

    async fn submit(&self, job: Job) -> anyhow::Result<()> {
        self.jobs
            .send(job)
            .await
            .map_err(|_| anyhow!("the password hashing threads stopped"))
    }

    /// How many hashing threads there are.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The most hashes that ran at the same moment so far.
    pub fn peak_concurrency(&self) -> usize {
        self.load.peak.load(Ordering::SeqCst)
    }

    /// How many block buffers the hashing threads hold right now.
    pub fn buffers_held(&self) -> usize {
        self.load.buffers.load(Ordering::SeqCst)
    }

    /// How many distinct threads have run a hash so far.
    pub fn threads_used(&self) -> usize {
        self.load.threads_seen.lock().map_or(0, |seen| seen.len())
    }
}

fn params() -> anyhow::Result<Params> {
    Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|error| anyhow!("argon2 parameters: {error}"))
}

/// A hashing thread: takes jobs until every sender is gone. Its block buffer is allocated at the
/// first job after a pause, reused for every job while they keep coming, and freed after
/// `keep_buffer` without one.
fn work(
    receiver: &tokio::sync::Mutex<mpsc::Receiver<Job>>,
    params: &Params,
    load: &Load,
    keep_buffer: Duration,
) {
    lower_priority();
    // A clock for the waits: this thread's own runtime (it is no runtime's worker).
    let clock = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(clock) => clock,
        Err(error) => {
            tracing::error!(%error, "a password hashing thread cannot start its timer");
            return;
        }
    };
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut memory: Vec<Block> = Vec::new();
    loop {
        // One thread waits on the queue while holding the lock; the others wait for the lock, in
        // turn (tokio's mutex is fair). A thread holding a buffer waits at most `keep_buffer`
        // for both, so one stuck behind the lock frees its buffer too.
        let next = async {
            let mut receiver = receiver.lock().await;
            receiver.recv().await
        };
        let waited = if memory.is_empty() {
            Ok(clock.block_on(next))
        } else {
            clock.block_on(async { tokio::time::timeout(keep_buffer, next).await })
        };
        let Ok(job) = waited else {
            // No job for `keep_buffer`: give the memory back.
            memory = Vec::new();
            load.buffers.fetch_sub(1, Ordering::SeqCst);
            continue;
        };
        let Some(job) = job else { return };
        if job.abandoned() {
            continue;
        }
        if memory.is_empty() {
            memory = vec![Block::new(); params.block_count()];
            load.buffers.fetch_add(1, Ordering::SeqCst);
        }
        load.start();
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_into(&argon2, params, &mut memory, &password));
            }
            Job::Verify {
                password,
                hash,
                reply,
            } => {
                let _ = reply.send(verify_in(&mut memory, &password, &hash));
            }
        }
        load.finish();
    }
}

/// Gives the calling thread the nice value [`HASHING_NICE`]. On Linux a nice value belongs to a
/// thread (`setpriority(PRIO_PROCESS, tid)` changes that thread alone); raising it needs no
/// privilege. A refusal (a sandbox) leaves the thread at the normal priority, and says so.
fn lower_priority() {
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), HASHING_NICE) {
        tracing::warn!(%error, nice = HASHING_NICE, "cannot lower a password hashing thread's priority");
    }
}

/// Hashes `password` with a fresh salt, using `memory` for the blocks.
fn hash_into(
    argon2: &Argon2<'_>,
    params: &Params,
    memory: &mut [Block],
    password: &str,
) -> anyhow::Result<String> {
    let salt = Salt::new(&rand::random::<[u8; Salt::RECOMMENDED_LENGTH]>())
        .map_err(|error| anyhow!("argon2 salt: {error}"))?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut output, memory)
        .map_err(|error| anyhow!("argon2 hashing failed: {error}"))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params)
            .map_err(|error| anyhow!("argon2 parameters: {error}"))?,
        salt: Some(salt),
        hash: Some(Output::new(&output).map_err(|error| anyhow!("argon2 output: {error}"))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `phc`, computed with the string's own algorithm,
/// version and parameters in `memory` (a hash with more memory than ours gets its own buffer).
fn verify_in(memory: &mut [Block], password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    if params.block_count() > memory.len() {
        return argon2.verify_password(password.as_bytes(), phc).is_ok();
    }
    let mut output = [0u8; Output::MAX_LENGTH];
    let Some(output) = output.get_mut(..expected.len()) else {
        return false;
    };
    if argon2
        .hash_password_into_with_memory(password.as_bytes(), salt, output, memory)
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(output).is_ok_and(|computed| &computed == expected)
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHasher;

    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_with_the_owasp_parameters_and_verifies() {
        let passwords = Passwords::new().unwrap();

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

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_still_verify_and_ours_verify_there() {
        let passwords = Passwords::with_threads(1).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap());
        let theirs = argon2.hash_password(b"old password").unwrap().to_string();
        // A hash with other parameters (more memory than the buffer) verifies too.
        let bigger = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(MEMORY_KIB * 2, 1, 1, None).unwrap(),
        )
        .hash_password(b"old password")
        .unwrap()
        .to_string();

        let ours = passwords.hash("new password".into()).await.unwrap();

        for hash in [&theirs, &bigger] {
            assert!(
                passwords
                    .verify("old password".into(), Some(hash.clone()))
                    .await
                    .unwrap(),
                "{hash}"
            );
            assert!(
                !passwords
                    .verify("new password".into(), Some(hash.clone()))
                    .await
                    .unwrap()
            );
        }
        assert!(
            argon2
                .verify_password(b"new password", ours.as_str())
                .is_ok()
        );
        assert!(
            argon2
                .verify_password(b"old password", ours.as_str())
                .is_err()
        );
        assert!(
            !passwords
                .verify("x".into(), Some("not a phc string".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_burst_of_verifications_all_answer_on_at_most_the_fixed_threads() {
        let passwords = Passwords::with_threads(2).unwrap();
        let hash = passwords.hash("burst password".into()).await.unwrap();

        let checks: Vec<_> = (0..40)
            .map(|i| {
                let passwords = passwords.clone();
                let hash = hash.clone();
                tokio::spawn(async move {
                    let password = if i % 2 == 0 {
                        "burst password"
                    } else {
                        "wrong"
                    };
                    (i, passwords.verify(password.into(), Some(hash)).await)
                })
            })
            .collect();
        for check in checks {
            let (i, matches) = check.await.unwrap();
            assert_eq!(matches.unwrap(), i % 2 == 0, "check {i}");
        }

        assert!(
            passwords.threads_used() <= 2,
            "{}",
            passwords.threads_used()
        );
        assert!(
            passwords.peak_concurrency() <= 2,
            "{}",
            passwords.peak_concurrency()
        );
    }

    #[tokio::test]
    async fn a_burst_beyond_the_queue_waits_for_room_and_every_caller_gets_its_answer() {
        let passwords = Passwords::start(1, 2, KEEP_BUFFER_FOR).unwrap();
        let hash = passwords.hash("queued password".into()).await.unwrap();

        let checks: Vec<_> = (0..12)
            .map(|_| {
                let passwords = passwords.clone();
                let hash = hash.clone();
                tokio::spawn(
                    async move { passwords.verify("queued password".into(), Some(hash)).await },
                )
            })
            .collect();

        for check in checks {
            assert!(check.await.unwrap().unwrap());
        }
        assert_eq!(passwords.threads_used(), 1);
    }

    #[tokio::test]
    async fn a_thread_frees_its_buffer_after_a_pause_and_hashes_again_after() {
        let passwords = Passwords::start(2, 4, std::time::Duration::from_millis(300)).unwrap();
        assert_eq!(
            passwords.buffers_held(),
            0,
            "nothing is allocated before a job"
        );

        let hashes: Vec<_> = (0..4)
            .map(|i| {
                let passwords = passwords.clone();
                tokio::spawn(async move { passwords.hash(format!("pause {i}")).await })
            })
            .collect();
        for hash in hashes {
            hash.await.unwrap().unwrap();
        }
        let held = passwords.buffers_held();
        assert!(
            (1..=2).contains(&held),
            "buffers held right after the jobs: {held}"
        );

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while passwords.buffers_held() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "still {} buffer(s) held long after the pause",
                passwords.buffers_held()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }

        let hash = passwords.hash("after the pause".into()).await.unwrap();
        assert_eq!(passwords.buffers_held(), 1, "one job, one buffer again");
        assert!(
            passwords
                .verify("after the pause".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    /// The nice value of each thread of this process named `argon2-*`, from `/proc` (field 19
    /// of `/proc/self/task/<tid>/stat`).
    fn hashing_threads_nice() -> Vec<i32> {
        let mut nice = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let path = task.unwrap().path();
            let (Ok(comm), Ok(stat)) = (
                std::fs::read_to_string(path.join("comm")),
                std::fs::read_to_string(path.join("stat")),
            ) else {
                continue; // the thread ended meanwhile
            };
            if !comm.starts_with("argon2-") {
                continue;
            }
            // After the name's closing parenthesis: field 3 (the state) onwards.
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            nice.push(fields[19 - 3].parse().unwrap());
        }
        nice
    }

    #[tokio::test]
    async fn the_hashing_threads_run_at_the_lowest_cpu_priority() {
        let passwords = Passwords::with_threads(2).unwrap();
        assert!(passwords.hash("niced".into()).await.is_ok());

        // Other tests start hashing threads too: each lowers its own priority as it starts.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let nice = hashing_threads_nice();
            if nice.len() >= 2 && nice.iter().all(|&nice| nice == HASHING_NICE) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the hashing threads' nice values: {nice:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    #[test]
    fn the_dummy_hash_has_the_real_parameters() {
        let hash = PasswordHash::new(DUMMY_HASH).unwrap();
        let parsed = Params::try_from(&hash).unwrap();
        let ours = params().unwrap();
        assert_eq!(
            (parsed.m_cost(), parsed.t_cost(), parsed.p_cost()),
            (ours.m_cost(), ours.t_cost(), ours.p_cost())
        );
        assert_eq!(hash.algorithm, Algorithm::Argon2id.ident());
        assert_eq!(hash.version, Some(Version::V0x13.into()));
    }
}
