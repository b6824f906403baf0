//! The sweeper: expires CONFIRMED orders whose reservation window has passed and rejects PENDING
//! orders the inventory never answered (reason `timeout`), then forgets expired idempotency keys.
//! Safe with several replicas: each batch locks its rows with `FOR UPDATE SKIP LOCKED`, and each
//! change is a compare-and-set.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    db::{idempotency, orders},
    domain::{OrderId, OrderStatus, TIMEOUT_REASON, Transition},
    live::Live,
    usecases::transition_order::transition_order,
};

const BATCH: i64 = 100;

/// Most idempotency-key batches one tick deletes, so a backlog (the first run after a long
/// outage) is worked off over several ticks rather than delaying the order sweeps.
const PRUNE_BATCHES_PER_TICK: usize = 10;

/// The background loop.
#[derive(Clone)]
pub struct Sweeper {
    pub pool: PgPool,
    pub live: Live,
    pub pending_timeout: Duration,
    pub interval: Duration,
    /// Idempotency keys older than this are forgotten.
    pub idempotency_key_ttl: Duration,
}

impl Sweeper {
    /// Sweeps every `interval` until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            if let Err(error) = self.sweep_once().await {
                tracing::warn!(%error, "sweep failed; retrying on the next tick");
            }
            if let Err(error) = self.prune_idempotency_keys().await {
                tracing::warn!(%error, "pruning idempotency keys failed; retrying on the next tick");
            }
        }
        tracing::info!("sweeper stopped");
    }

    /// One pass over both kinds of overdue orders; returns how many it moved.
    pub async fn sweep_once(&self) -> Result<usize, sqlx::Error> {
        let expire = Transition::new(OrderStatus::Confirmed, OrderStatus::Expired);
        let time_out = Transition {
            reason: Some(TIMEOUT_REASON.to_owned()),
            ..Transition::new(OrderStatus::Pending, OrderStatus::Rejected)
        };
        let mut moved = 0;
        for (kind, transition) in [(Overdue::Expired, &expire), (Overdue::TimedOut, &time_out)] {
            loop {
                let batch = self.batch(kind, transition).await?;
                moved += batch;
                if batch < BATCH as usize {
                    break;
                }
            }
        }
        Ok(moved)
    }

    /// Deletes expired idempotency keys, [`idempotency::PRUNE_BATCH`] per statement, at most
    /// [`PRUNE_BATCHES_PER_TICK`] statements; returns how many it deleted.
    pub async fn prune_idempotency_keys(&self) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        for _ in 0..PRUNE_BATCHES_PER_TICK {
            let batch = idempotency::prune_expired(&self.pool, self.idempotency_key_ttl).await?;
            deleted += batch;
            if batch < idempotency::PRUNE_BATCH as u64 {
                break;
            }
        }
        if deleted > 0 {
            tracing::debug!(deleted, "expired idempotency keys deleted");
        }
        Ok(deleted)
    }

    /// Locks up to [`BATCH`] overdue orders (skipping rows another replica holds), moves them
    /// and commits; then announces the changes.
    async fn batch(&self, kind: Overdue, transition: &Transition) -> Result<usize, sqlx::Error> {
        let mut tx = web_kit::db::begin(&self.pool).await?;
        let due: Vec<(OrderId, String)> = match kind {
            Overdue::Expired => orders::lock_expired(&mut tx, BATCH).await?,
            Overdue::TimedOut => {
                orders::lock_unanswered(&mut tx, self.pending_timeout, BATCH).await?
            }
        };
        let mut changes = Vec::with_capacity(due.len());
        for (order_id, correlation_id) in &due {
            if let Some(order) =
                transition_order(&mut tx, *order_id, transition, correlation_id).await?
            {
                tracing::info!(%order_id, status = %transition.to, "swept");
                changes.push(order.to_change()?);
            }
        }
        tx.commit().await?;
        self.live.publish(&changes).await;
        Ok(due.len())
    }
}

/// What the sweeper looks for.
#[derive(Debug, Clone, Copy)]
enum Overdue {
    /// CONFIRMED past `expires_at`.
    Expired,
    /// PENDING for longer than the pending timeout.
    TimedOut,
}
