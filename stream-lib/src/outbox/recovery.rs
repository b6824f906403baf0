//! Recovery when Redis lost data it had accepted (a restart without persistence, a failover to a
//! replica that was behind, FLUSHALL): the relay republishes every row it published within its
//! retention, in id order; the consumers' inbox absorbs the duplicates.
//!
//! How the relay notices: it keeps, per stream, an epoch (a random value it wrote into Redis at
//! `{<stream>}:epoch`, the stream's own hash slot) and the highest entry id it published, both in
//! the `outbox_streams` table of the producer's database. Every publish runs `publish.lua`, which
//! adds the entries only if the epoch is still there and the stream's last generated id is not
//! below the last published id; the same script with no entries is the check the relay runs at
//! start and every `check_interval`. Epoch gone or changed, stream gone, last id gone backwards:
//! Redis lost data.
//!
//! Why it is safe with several relay replicas: a publishing transaction holds the advisory lock
//! [`RELAY_LOCK`] (transaction-scoped) from before it claims rows until it committed them as
//! published; a recovery takes the same lock (session-scoped) for its whole run. So a recovery
//! sees every row whose XADD was accepted as published (none is in flight), and while it marks
//! rows unpublished nobody publishes (the script refuses too, as Redis still lacks the epoch),
//! so the republished rows go out strictly in id order once the new epoch is written.

use std::{
    collections::HashMap,
    fmt,
    sync::LazyLock,
    time::{Duration, Instant},
};

use redis::Script;
use sqlx::{Connection, PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{StreamKeys, StreamRedis};

/// The advisory lock key (of the producer's database) that publishing transactions and
/// recoveries share.
pub const RELAY_LOCK: i64 = 0x7374_7265_616d_6f62; // "streamob"

/// Rows marked unpublished per statement during a recovery.
pub const RECOVERY_BATCH: i64 = 1000;

static PUBLISH: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("publish.lua")));

/// The Redis key of `stream`'s epoch: `{<prefix><stream>}:epoch`, in the stream's hash slot.
pub fn epoch_key(keys: &StreamKeys, stream: &str) -> String {
    format!("{{{}}}:epoch", keys.key(stream))
}

/// A stream entry id, `<ms>-<seq>`, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryId {
    pub ms: u64,
    pub seq: u64,
}

impl EntryId {
    pub fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// What the relay remembers of a stream (a row of `outbox_streams`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamState {
    pub epoch: String,
    pub last: EntryId,
}

/// Why the relay concluded that Redis lost data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Loss {
    EpochGone,
    EpochChanged,
    StreamGone,
    StreamBehind { redis_last: EntryId },
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EpochGone => f.write_str("the epoch key is gone"),
            Self::EpochChanged => f.write_str("the epoch key holds another epoch"),
            Self::StreamGone => f.write_str("the stream is gone"),
            Self::StreamBehind { redis_last } => {
                write!(f, "the stream's last id went back to {redis_last}")
            }
        }
    }
}

/// The script's answer.
pub(crate) enum Verdict {
    /// Published (the new entries' ids, in order).
    Accepted(Vec<String>),
    Lost(Loss),
}

/// Runs `publish.lua` for `stream`: adds `entries` (name/value fields; each with its count when
/// they differ, as an optional `traceparent` makes them) if Redis still holds what `state` says
/// was published, or reports the loss.
pub(crate) async fn publish(
    redis: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    stream: &str,
    state: &StreamState,
    entries: &[Vec<String>],
) -> redis::RedisResult<Verdict> {
    let width = entries.first().map_or(0, Vec::len);
    let uniform = entries.iter().all(|entry| entry.len() == width);
    let mut invocation = PUBLISH.prepare_invoke();
    invocation
        .key(keys.key(stream))
        .key(epoch_key(keys, stream))
        .arg(&state.epoch)
        .arg(state.last.ms)
        .arg(state.last.seq)
        .arg(if uniform { width } else { 0 });
    for entry in entries {
        if !uniform {
            invocation.arg(entry.len());
        }
        invocation.arg(entry);
    }
    let mut reply: Vec<String> = invocation.invoke_async(redis).await?;
    if reply.len() < 3 {
        return Err(redis::RedisError::from((
            redis::ErrorKind::Parse,
            "publish.lua answered too little",
        )));
    }
    let ids = reply.split_off(3);
    let (status, epoch, last) = (&reply[0], &reply[1], &reply[2]);
    if status == "ok" {
        return Ok(Verdict::Accepted(ids));
    }
    let loss = if epoch.is_empty() {
        Loss::EpochGone
    } else if *epoch != state.epoch {
        Loss::EpochChanged
    } else if last.is_empty() {
        Loss::StreamGone
    } else {
        Loss::StreamBehind {
            redis_last: EntryId::parse(last).unwrap_or_default(),
        }
    };
    Ok(Verdict::Lost(loss))
}

/// The remembered state of `streams` (those never published to are missing).
pub(crate) async fn load(
    connection: &mut PgConnection,
    streams: &[String],
) -> Result<HashMap<String, StreamState>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT stream, epoch, last_ms, last_seq FROM outbox_streams WHERE stream = ANY($1)",
    )
    .bind(streams)
    .fetch_all(connection)
    .await?;
    rows.iter().map(state_of).collect()
}

/// Every stream the relay has published to.
pub(crate) async fn load_all(pool: &PgPool) -> Result<Vec<(String, StreamState)>, sqlx::Error> {
    let rows = sqlx::query("SELECT stream, epoch, last_ms, last_seq FROM outbox_streams")
        .fetch_all(pool)
        .await?;
    rows.iter().map(state_of).collect()
}

fn state_of(row: &sqlx::postgres::PgRow) -> Result<(String, StreamState), sqlx::Error> {
    let number = |name: &str| -> Result<u64, sqlx::Error> {
        Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    Ok((
        row.try_get("stream")?,
        StreamState {
            epoch: row.try_get("epoch")?,
            last: EntryId {
                ms: number("last_ms")?,
                seq: number("last_seq")?,
            },
        },
    ))
}

/// The first publish to `stream`: writes an epoch into Redis (or adopts the one there: nothing
/// was published from this database yet) and remembers it. Runs inside the publishing
/// transaction, under [`RELAY_LOCK`].
pub(crate) async fn start_stream(
    connection: &mut PgConnection,
    redis: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    stream: &str,
) -> Result<StreamState, super::relay::RelayError> {
    let fresh = Uuid::new_v4().simple().to_string();
    let previous: Option<String> = redis::cmd("SET")
        .arg(epoch_key(keys, stream))
        .arg(&fresh)
        .arg("NX")
        .arg("GET")
        .query_async(redis)
        .await?;
    let epoch = previous.unwrap_or(fresh);
    sqlx::query(
        "INSERT INTO outbox_streams (stream, epoch) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(stream)
    .bind(&epoch)
    .execute(&mut *connection)
    .await?;
    let states = load(connection, &[stream.to_owned()]).await?;
    states
        .into_values()
        .map(Ok)
        .next()
        .unwrap_or_else(|| Err(sqlx::Error::RowNotFound.into()))
}

/// Re-checks `stream` under [`RELAY_LOCK`] and, if Redis really lost data, marks every row
/// published to it within `retention` unpublished (in batches, in id order), then writes a new
/// epoch. Returns the number of rows to be republished, `None` when there was nothing to do or
/// another relay holds the lock (it is publishing or recovering: the next check looks again).
pub(crate) async fn recover(
    pool: &PgPool,
    redis: &StreamRedis,
    keys: &StreamKeys,
    stream: &str,
    retention: Duration,
) -> Result<Option<u64>, super::relay::RelayError> {
    // Its own session: the lock is released if this future is dropped (the connection closes).
    let mut connection = pool.acquire().await?.detach();
    if !lock(&mut connection).await? {
        return Ok(None);
    }
    let outcome = recover_locked(&mut connection, redis, keys, stream, retention).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(RELAY_LOCK)
        .execute(&mut connection)
        .await;
    let _ = connection.close().await;
    outcome
}

/// Waits a little for in-flight publishing transactions to finish.
async fn lock(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(RELAY_LOCK)
            .fetch_one(&mut *connection)
            .await?;
        if locked || Instant::now() >= deadline {
            return Ok(locked);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn recover_locked(
    connection: &mut PgConnection,
    redis: &StreamRedis,
    keys: &StreamKeys,
    stream: &str,
    retention: Duration,
) -> Result<Option<u64>, super::relay::RelayError> {
    let Some(state) = load(connection, &[stream.to_owned()]).await?.remove(stream) else {
        return Ok(None);
    };
    let mut redis = redis.control().await?;
    let Verdict::Lost(loss) = publish(&mut redis, keys, stream, &state, &[]).await? else {
        return Ok(None);
    };
    tracing::warn!(%stream, %loss, last_published = %state.last, "Redis lost stream data; republishing the outbox rows published within the retention");
    let since: OffsetDateTime = sqlx::query_scalar("SELECT now() - make_interval(secs => $1)")
        .bind(retention.as_secs_f64())
        .fetch_one(&mut *connection)
        .await?;
    let (mut cursor, mut marked) = (0_i64, 0_u64);
    loop {
        let ids: Vec<i64> = sqlx::query_scalar(
            "WITH batch AS (
                 SELECT id FROM outbox
                 WHERE stream = $1 AND id > $2 AND published_at >= $3
                 ORDER BY id LIMIT $4)
             UPDATE outbox SET published_at = NULL FROM batch WHERE outbox.id = batch.id
             RETURNING outbox.id",
        )
        .bind(stream)
        .bind(cursor)
        .bind(since)
        .bind(RECOVERY_BATCH)
        .fetch_all(&mut *connection)
        .await?;
        marked += ids.len() as u64;
        cursor = ids.iter().copied().max().unwrap_or(cursor);
        if (ids.len() as i64) < RECOVERY_BATCH {
            break;
        }
    }
    let epoch = Uuid::new_v4().simple().to_string();
    let mut transaction = connection.begin().await?;
    sqlx::query(
        "UPDATE outbox_streams SET epoch = $2, last_ms = 0, last_seq = 0, recovered_at = now()
         WHERE stream = $1",
    )
    .bind(stream)
    .bind(&epoch)
    .execute(&mut *transaction)
    .await?;
    // Before the commit: a relay that reads the new epoch finds it in Redis.
    let () = redis::cmd("SET")
        .arg(epoch_key(keys, stream))
        .arg(&epoch)
        .query_async(&mut redis)
        .await?;
    transaction.commit().await?;
    metrics::counter!("outbox_republished_total", "stream" => stream.to_owned()).increment(marked);
    tracing::warn!(%stream, rows = marked, "outbox rows marked for republishing; new epoch written");
    Ok(Some(marked))
}
