//! Applies one sub-batch in one PostgreSQL transaction: the inbox recorded for every entry in
//! one statement, the handlers called in stream order, one commit.
//!
//! The fast path has no savepoints (no extra round trips), and gives each run of consecutive
//! entries of a batch-handled type to its handler in one call. When an entry fails, the batch
//! is rolled back; the failing entry is settled on its own and the others run again with a
//! SAVEPOINT per entry: an entry that fails there is rolled back to its savepoint and its
//! inbox row removed, the rest commits. When a run fails as a whole, every entry runs again
//! that way (a batch handler then gets one-entry runs), which finds the bad one. The deadline
//! bounds each transaction; the entry running when it passes is blamed (a transient failure)
//! and the others run again without it (a run running then: every entry runs again on its own).

use std::{collections::HashSet, panic::AssertUnwindSafe};

use futures::FutureExt;
use uuid::Uuid;

use super::{Context, Work};
use crate::{
    Envelope,
    handler::{BoxFuture, HandlerError, RunError, Tx},
};

/// What became of a sub-batch.
#[derive(Default)]
pub(crate) struct Applied {
    /// Committed, or found in the inbox already: to be acked.
    pub handled: Vec<Work>,
    /// Failed on their own: to be retried or dead-lettered.
    pub failed: Vec<(Work, HandlerError)>,
    /// Not applied because a dependency is unavailable: to run again after the pause.
    pub unavailable: Vec<Work>,
    pub unavailable_error: Option<HandlerError>,
}

enum Fast {
    Unavailable(HandlerError),
    /// Entry `index` failed (or ran when the deadline passed): fall back to savepoints for the
    /// others.
    EntryFailed(usize, HandlerError),
    /// A failure no entry is to blame for (the inbox statement): savepoints will tell.
    Fallback,
}

pub(crate) async fn apply(ctx: &Context, mut works: Vec<Work>) -> Applied {
    let deadline = ctx.settings.handler_deadline;
    let mut current = Running::Library;
    let fast = tokio::time::timeout(deadline, optimistic(ctx, &works, &mut current)).await;
    let fast = match fast {
        Ok(fast) => fast,
        Err(_) => match current {
            Running::Entry(index) => {
                tracing::warn!(stream = %ctx.settings.stream, id = %works[index].entry.id, deadline_ms = deadline.as_millis() as u64, "handler passed its deadline; abandoned");
                Err(Fast::EntryFailed(index, deadline_passed(deadline)))
            }
            Running::Run => {
                tracing::warn!(stream = %ctx.settings.stream, deadline_ms = deadline.as_millis() as u64, "batch handler passed its deadline; its entries run one by one");
                Err(Fast::Fallback)
            }
            Running::Library => Err(Fast::Unavailable(HandlerError::unavailable(
                anyhow::anyhow!("the database did not answer within the handler deadline"),
            ))),
        },
    };
    match fast {
        Ok(effects) => {
            run_effects(effects).await;
            Applied {
                handled: works,
                ..Applied::default()
            }
        }
        Err(Fast::Unavailable(error)) => Applied {
            unavailable: works,
            unavailable_error: Some(error),
            ..Applied::default()
        },
        Err(Fast::EntryFailed(index, error)) => {
            // The failing entry is known: it is not called again; the others run with a
            // savepoint each.
            let bad = works.remove(index);
            let mut applied = with_savepoints(ctx, works).await;
            applied.failed.push((bad, error));
            applied
        }
        Err(Fast::Fallback) => with_savepoints(ctx, works).await,
    }
}

fn deadline_passed(deadline: std::time::Duration) -> HandlerError {
    HandlerError::transient(anyhow::anyhow!(
        "the handler passed its deadline of {deadline:?}"
    ))
}

/// What the fast path is running, for the caller to blame when the deadline passes.
#[derive(Clone, Copy)]
enum Running {
    /// The inbox statement, the commit or nothing: the database is to blame.
    Library,
    /// This entry's handler.
    Entry(usize),
    /// A batch handler with a run of entries.
    Run,
}

/// The whole sub-batch in one transaction, no savepoints; each run of consecutive entries of a
/// batch-handled type in one call.
async fn optimistic(
    ctx: &Context,
    works: &[Work],
    current: &mut Running,
) -> Result<Vec<BoxFuture<'static, ()>>, Fast> {
    let begun = crate::db::begin(&ctx.pool).await;
    let mut tx =
        Tx::new(begun.map_err(|error| Fast::Unavailable(HandlerError::unavailable(error)))?);
    let fast = |error: sqlx::Error| match HandlerError::from(error) {
        error @ HandlerError::Unavailable(_) => Fast::Unavailable(error),
        _ => Fast::Fallback,
    };
    let ids: Vec<Uuid> = works.iter().map(|work| work.envelope.event_id).collect();
    let mut fresh = record_inbox(&mut tx, &ctx.settings.group, &ids)
        .await
        .map_err(fast)?;
    let fresh: Vec<usize> = (0..works.len())
        .filter(|&index| fresh.remove(&works[index].envelope.event_id))
        .collect();
    for run in runs(ctx, works, &fresh) {
        if let [index] = run[..] {
            *current = Running::Entry(index);
            match call(ctx, &mut tx, &works[index]).await {
                Ok(()) => {}
                Err(error @ HandlerError::Unavailable(_)) => return Err(Fast::Unavailable(error)),
                Err(error) => return Err(Fast::EntryFailed(index, error)),
            }
            continue;
        }
        *current = Running::Run;
        let envelopes: Vec<&Envelope> = run.iter().map(|&i| &works[i].envelope).collect();
        match call_run(ctx, &mut tx, &envelopes).await {
            Ok(()) => {}
            Err(RunError::Undecodable(position, error)) => {
                return Err(Fast::EntryFailed(run[position], error));
            }
            Err(RunError::Failed(error @ HandlerError::Unavailable(_))) => {
                return Err(Fast::Unavailable(error));
            }
            Err(RunError::Failed(error)) => {
                tracing::debug!(stream = %ctx.settings.stream, entries = run.len(), error = %error, "batch handler failed; its sub-batch runs entry by entry");
                return Err(Fast::Fallback);
            }
        }
    }
    *current = Running::Library;
    tx.commit().await.map_err(fast)
}

/// Splits the fresh entries (indexes into `works`, in stream order) into runs: consecutive
/// entries of one batch-handled type form one run; every other entry is a run of its own.
fn runs(ctx: &Context, works: &[Work], fresh: &[usize]) -> Vec<Vec<usize>> {
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for &index in fresh {
        let event_type = &works[index].envelope.event_type;
        let joins = ctx.handlers.batched(event_type)
            && runs
                .last()
                .is_some_and(|run| works[run[0]].envelope.event_type == *event_type);
        match runs.last_mut() {
            Some(run) if joins => run.push(index),
            _ => runs.push(vec![index]),
        }
    }
    runs
}

/// Rounds of one transaction with a savepoint per entry, until every entry committed or failed
/// on its own.
async fn with_savepoints(ctx: &Context, works: Vec<Work>) -> Applied {
    let deadline = ctx.settings.handler_deadline;
    let mut pending: Vec<usize> = (0..works.len()).collect();
    let mut failed: Vec<(usize, HandlerError)> = Vec::new();
    let mut handled: Vec<usize> = Vec::new();
    let mut unavailable: Option<HandlerError> = None;
    while !pending.is_empty() {
        let mut current = None;
        let mut round_failed = Vec::new();
        let round = round(ctx, &works, &pending, &mut current, &mut round_failed);
        match tokio::time::timeout(deadline, round).await {
            Ok(Ok(effects)) => {
                run_effects(effects).await;
                let failed_here: HashSet<usize> = round_failed.iter().map(|(i, _)| *i).collect();
                handled.extend(pending.iter().filter(|i| !failed_here.contains(i)));
                failed.extend(round_failed);
                pending.clear();
            }
            Ok(Err(error @ HandlerError::Unavailable(_))) => {
                unavailable = Some(error);
                break;
            }
            Ok(Err(error)) => {
                // Not one entry's fault (the inbox statement failed): every entry counts it.
                let message = format!("{error:#}");
                failed.extend(
                    pending
                        .drain(..)
                        .map(|i| (i, HandlerError::transient(anyhow::anyhow!("{message}")))),
                );
            }
            Err(_) => {
                let Some(blamed) = current else {
                    // The inbox statement or the commit hung: the database, not an entry.
                    unavailable = Some(HandlerError::unavailable(anyhow::anyhow!(
                        "the database did not answer within the handler deadline"
                    )));
                    break;
                };
                tracing::warn!(stream = %ctx.settings.stream, id = %works[blamed].entry.id, deadline_ms = deadline.as_millis() as u64, "handler passed its deadline; abandoned");
                failed.extend(round_failed);
                failed.push((blamed, deadline_passed(deadline)));
                let out: HashSet<usize> = failed.iter().map(|(i, _)| *i).collect();
                pending.retain(|i| !out.contains(i));
            }
        }
    }
    let mut slots: Vec<Option<Work>> = works.into_iter().map(Some).collect();
    let mut take = |i: usize| slots[i].take().expect("each entry is settled once");
    let mut applied = Applied {
        handled: handled.into_iter().map(&mut take).collect(),
        failed: failed
            .into_iter()
            .map(|(i, error)| (take(i), error))
            .collect(),
        ..Applied::default()
    };
    if unavailable.is_some() {
        applied.unavailable = pending.into_iter().map(&mut take).collect();
        applied.unavailable_error = unavailable;
    }
    applied
}

/// One transaction over `pending`, a savepoint per entry. `current` names the entry running,
/// for the caller to blame when the deadline passes.
async fn round(
    ctx: &Context,
    works: &[Work],
    pending: &[usize],
    current: &mut Option<usize>,
    failed: &mut Vec<(usize, HandlerError)>,
) -> Result<Vec<BoxFuture<'static, ()>>, HandlerError> {
    let begun = crate::db::begin(&ctx.pool)
        .await
        .map_err(HandlerError::unavailable)?;
    let mut tx = Tx::new(begun);
    let ids: Vec<Uuid> = pending
        .iter()
        .map(|&i| works[i].envelope.event_id)
        .collect();
    let mut fresh = record_inbox(&mut tx, &ctx.settings.group, &ids).await?;
    let mut failed_ids: HashSet<Uuid> = HashSet::new();
    for &i in pending {
        let work = &works[i];
        let event_id = work.envelope.event_id;
        if !fresh.remove(&event_id) {
            if failed_ids.contains(&event_id) {
                // A second copy in this batch of an event that just failed: not applied either.
                failed.push((
                    i,
                    HandlerError::transient(anyhow::anyhow!(
                        "an earlier copy of this event in the batch failed"
                    )),
                ));
            }
            continue;
        }
        *current = Some(i);
        sqlx::query("SAVEPOINT stream_lib_entry")
            .execute(&mut *tx)
            .await?;
        let effects = tx.effects_len();
        match call(ctx, &mut tx, work).await {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT stream_lib_entry")
                    .execute(&mut *tx)
                    .await?;
            }
            Err(error @ HandlerError::Unavailable(_)) => return Err(error),
            Err(error) => {
                sqlx::query("ROLLBACK TO SAVEPOINT stream_lib_entry")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM inbox WHERE consumer = $1 AND event_id = $2")
                    .bind(&ctx.settings.group)
                    .bind(event_id)
                    .execute(&mut *tx)
                    .await?;
                tx.truncate_effects(effects);
                failed_ids.insert(event_id);
                failed.push((i, error));
            }
        }
        *current = None;
    }
    Ok(tx.commit().await?)
}

/// Calls the entry's handler; a panic is a transient failure.
async fn call(ctx: &Context, tx: &mut Tx, work: &Work) -> Result<(), HandlerError> {
    let span = crate::trace::entry_span(
        &ctx.settings,
        &work.entry.id,
        &work.envelope,
        work.aggregate,
        work.attempt,
    );
    let handler = AssertUnwindSafe(ctx.handlers.call(tx, &work.envelope)).catch_unwind();
    match crate::trace::handled(&ctx.settings, &work.envelope.event_type, span, handler).await {
        Ok(result) => result,
        Err(_) => Err(HandlerError::transient(anyhow::anyhow!(
            "the handler panicked"
        ))),
    }
}

/// Calls the batch handler of a run; a panic fails the run as a whole.
async fn call_run(ctx: &Context, tx: &mut Tx, envelopes: &[&Envelope]) -> Result<(), RunError> {
    let handler = AssertUnwindSafe(ctx.handlers.call_run(tx, envelopes)).catch_unwind();
    match crate::trace::handled_run(&ctx.settings, envelopes, handler).await {
        Ok(result) => result,
        Err(_) => Err(RunError::Failed(HandlerError::transient(anyhow::anyhow!(
            "the batch handler panicked"
        )))),
    }
}

/// Records `event_ids` in the inbox in one statement; returns those that were not there yet.
async fn record_inbox(
    tx: &mut Tx,
    consumer: &str,
    event_ids: &[Uuid],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let fresh = crate::inbox::record_batch(tx, consumer, event_ids).await?;
    Ok(fresh.into_iter().collect())
}

async fn run_effects(effects: Vec<BoxFuture<'static, ()>>) {
    for effect in effects {
        if AssertUnwindSafe(effect).catch_unwind().await.is_err() {
            tracing::error!("an after-commit effect panicked");
        }
    }
}
