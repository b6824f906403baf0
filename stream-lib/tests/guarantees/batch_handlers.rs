//! Batch handlers (`Handlers::on_batch`): one call per run of consecutive entries of a type,
//! the stream order of every aggregate kept, a bad entry inside a run failing only itself, and
//! the deadline over a run.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use stream_lib::{Delivered, Envelope, Event, HandleBatch, HandlerError, Handlers, Tx};
use uuid::Uuid;

use crate::helpers::*;

/// A batch handler of `order.placed` that records the runs it is given (event ids in the order
/// given) and writes their effects with one statement. A run holding `poison` fails; the first
/// run holding `hang` never returns.
#[derive(Clone, Default)]
struct Runs {
    calls: Arc<Mutex<Vec<Vec<Uuid>>>>,
    poison: Option<Uuid>,
    hang: Option<Uuid>,
}

impl Runs {
    fn calls(&self) -> Vec<Vec<Uuid>> {
        self.calls.lock().unwrap().clone()
    }

    fn handlers(&self) -> Handlers {
        Handlers::new().on_batch::<Placed, _>(self.clone()).on_fn(
            |tx: &mut Tx, _paid: Paid, meta: &Envelope| {
                let event_id = meta.event_id;
                Box::pin(async move { effect(tx, event_id).await })
            },
        )
    }
}

impl HandleBatch<Placed> for Runs {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: Vec<Delivered<'a, Placed>>,
    ) -> Result<(), HandlerError> {
        let ids: Vec<Uuid> = events.iter().map(|d| d.meta.event_id).collect();
        let first_with_hang = {
            let mut calls = self.calls.lock().unwrap();
            let before = calls
                .iter()
                .any(|run| self.hang.is_some_and(|h| run.contains(&h)));
            calls.push(ids.clone());
            !before && self.hang.is_some_and(|h| ids.contains(&h))
        };
        if first_with_hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if self.poison.is_some_and(|p| ids.contains(&p)) {
            return Err(HandlerError::permanent(anyhow::anyhow!("poison")));
        }
        sqlx::query(
            "INSERT INTO effects (event_id) \
             SELECT id FROM unnest($1::uuid[]) WITH ORDINALITY AS e(id, position) ORDER BY position",
        )
        .bind(&ids)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// Another type, handled one entry at a time, to break runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Paid {
    n: u64,
}

impl Event for Paid {
    const TYPE: &'static str = "order.paid";
}

fn paid(n: u64) -> Envelope {
    Envelope::of(&Paid { n }, "orders-service", format!("req-{n}")).unwrap()
}

#[tokio::test]
async fn a_batch_handler_gets_each_run_of_consecutive_entries_of_its_type_in_one_call() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("batch_runs").await;
    let events: Vec<Envelope> = (0..30)
        .map(placed)
        .chain([paid(30)])
        .chain((31..51).map(placed))
        .collect();
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let mut config = config(STREAM, GROUP);
    config.batch_size = 128;
    config.concurrency = 1;
    let runs = Runs::default();
    let running = spawn(&redis, &db, config, runs.handlers());
    wait_until(
        Duration::from_secs(10),
        "every entry is applied and acked",
        || async { db.all_effects().await == 51 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    running.stop().await;

    let ids: Vec<Uuid> = events.iter().map(|event| event.event_id).collect();
    assert_eq!(
        runs.calls(),
        [ids[..30].to_vec(), ids[31..].to_vec()],
        "one call per run, the other type between them"
    );
    assert_eq!(db.effect_order().await, ids, "applied in stream order");
    assert_eq!(db.transactions().await, 1, "one read, one sub-batch");
}

#[tokio::test]
async fn a_batch_handler_keeps_the_stream_order_of_every_aggregate() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("batch_order").await;
    let position = publish_round_aggregates(&redis, 200, 5).await;
    let mut config = config(STREAM, GROUP);
    config.batch_size = 32;
    config.concurrency = 4;
    let runs = Runs::default();
    let running = spawn(&redis, &db, config, runs.handlers());
    wait_until(
        Duration::from_secs(20),
        "every entry is applied",
        || async { db.all_effects().await == 200 },
    )
    .await;
    running.stop().await;

    assert_stream_order_per_aggregate(&db, &position).await;
    let calls = runs.calls();
    assert_eq!(calls.iter().map(Vec::len).sum::<usize>(), 200);
    assert!(
        calls.len() <= 200 / 32 * 4 + 4,
        "a call per run, not per entry: {} calls",
        calls.len()
    );
}

#[tokio::test]
async fn a_bad_entry_inside_a_batch_handled_run_fails_only_itself() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("batch_bad_entry").await;
    let events: Vec<Envelope> = (0..40).map(placed).collect();
    let bad = events[17].event_id;
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let mut config = config(STREAM, GROUP);
    config.concurrency = 1;
    let runs = Runs {
        poison: Some(bad),
        ..Runs::default()
    };
    let running = spawn(&redis, &db, config, runs.handlers());
    wait_until(Duration::from_secs(10), "the batch is settled", || async {
        db.all_effects().await == 39
            && redis.dead_letters().await.len() == 1
            && redis.pending(STREAM, GROUP).await == 0
    })
    .await;
    running.stop().await;

    assert_eq!(db.effects(bad).await, 0);
    for event in events.iter().filter(|event| event.event_id != bad) {
        assert_eq!(db.effects(event.event_id).await, 1);
    }
    assert_eq!(redis.dead_letters().await[0].event_id, bad.to_string());
    let calls = runs.calls();
    assert_eq!(calls[0].len(), 40, "the whole run first");
    assert!(
        calls[1..].iter().all(|run| run.len() == 1) && calls.len() == 41,
        "then each entry on its own: {:?}",
        calls.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert_eq!(
        db.transactions().await,
        1,
        "the other 39 commit together (one savepoint each)"
    );
}

#[tokio::test]
async fn a_batch_handler_past_its_deadline_is_abandoned_and_its_entries_run_one_by_one() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("batch_deadline").await;
    let events: Vec<Envelope> = (0..10).map(placed).collect();
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let mut config = config(STREAM, GROUP);
    config.handler_deadline = Duration::from_millis(500);
    config.concurrency = 1;
    let runs = Runs {
        hang: Some(events[3].event_id),
        ..Runs::default()
    };
    let started = Instant::now();
    let running = spawn(&redis, &db, config, runs.handlers());
    wait_until(
        Duration::from_secs(15),
        "every entry is applied",
        || async { db.all_effects().await == 10 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    let elapsed = started.elapsed();
    running.stop().await;

    for event in &events {
        assert_eq!(db.effects(event.event_id).await, 1);
    }
    assert!(redis.dead_letters().await.is_empty());
    let sizes: Vec<usize> = runs.calls().iter().map(Vec::len).collect();
    assert_eq!(sizes, [vec![10], vec![1; 10]].concat());
    assert!(
        elapsed < Duration::from_secs(5),
        "bounded by the deadline, not the hang: {elapsed:?}"
    );
}
