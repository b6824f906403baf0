//! The handler contract: typed handlers registered per event type ([`Handlers`]), one entry at a
//! time ([`Handle`]) or a run of entries at a time ([`HandleBatch`]), the transaction they run in
//! ([`Tx`]), and how they fail ([`HandlerError`]).

use std::{
    collections::HashMap,
    future::Future,
    marker::PhantomData,
    ops::{Deref, DerefMut},
    pin::Pin,
    sync::Arc,
};

use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::{Envelope, Event};

/// A boxed, sendable future, as closure handlers return it.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a handler failed, which decides what happens to the entry.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A dependency is down (PostgreSQL or Redis unreachable, the pool exhausted): the whole
    /// consumer pauses with backoff until a probe succeeds, then runs the entry again. Costs no
    /// attempt, so an outage never dead-letters anything.
    #[error("unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// The entry may succeed later (a deadlock, a lock timeout, the deadline): counts an
    /// attempt, retried with durable backoff, dead-lettered after the last attempt.
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Retrying cannot help (a payload that does not decode or breaks an invariant):
    /// dead-lettered at once.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl HandlerError {
    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable(error.into())
    }

    pub fn transient(error: impl Into<anyhow::Error>) -> Self {
        Self::Transient(error.into())
    }

    pub fn permanent(error: impl Into<anyhow::Error>) -> Self {
        Self::Permanent(error.into())
    }

    /// Whether this error pauses the consumer instead of counting an attempt.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Database errors are classified by [`is_unavailable`]: a lost or refused connection pauses
/// the consumer, anything else counts an attempt.
impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::Unavailable(error.into())
        } else {
            Self::Transient(error.into())
        }
    }
}

/// A Redis connection error is an unavailable dependency; any other Redis error counts an
/// attempt.
impl From<redis::RedisError> for HandlerError {
    fn from(error: redis::RedisError) -> Self {
        if error.is_connection_dropped()
            || error.is_connection_refusal()
            || error.is_timeout()
            || error.is_io_error()
        {
            Self::Unavailable(error.into())
        } else {
            Self::Transient(error.into())
        }
    }
}

/// Whether a database error means PostgreSQL is unreachable rather than the entry failing:
/// I/O, TLS and protocol errors, the pool timing out or closed, and the SQLSTATEs of a server
/// that refuses or drops sessions: class 08 (connection exception), 57P01/57P02/57P03 (admin or
/// crash shutdown, cannot connect now), 55000 with "is not currently accepting connections"
/// (`ALLOW_CONNECTIONS false`), 53300 (too many connections).
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(database) => {
            let code = database.code();
            let code = code.as_deref().unwrap_or("");
            code.starts_with("08")
                || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
                || (code == "55000" && database.message().contains("accepting connections"))
        }
        _ => false,
    }
}

/// The transaction a batch runs in. The library begins it, records the inbox, calls the
/// handlers in stream order and commits; a handler uses it as a `&mut PgConnection` (it derefs
/// to one) and never commits itself.
pub struct Tx {
    transaction: Transaction<'static, Postgres>,
    after_commit: Vec<BoxFuture<'static, ()>>,
}

impl Tx {
    pub(crate) fn new(transaction: Transaction<'static, Postgres>) -> Self {
        Self {
            transaction,
            after_commit: Vec::new(),
        }
    }

    /// Runs `effect` once this transaction committed (live updates, notifications). Effects of
    /// an entry that fails are dropped with it; a transaction that never commits runs none.
    pub fn after_commit(&mut self, effect: impl Future<Output = ()> + Send + 'static) {
        self.after_commit.push(Box::pin(effect));
    }

    /// How many effects are queued (to drop those of an entry rolled back to its savepoint).
    pub(crate) fn effects_len(&self) -> usize {
        self.after_commit.len()
    }

    pub(crate) fn truncate_effects(&mut self, len: usize) {
        self.after_commit.truncate(len);
    }

    /// Commits and hands back the effects to run.
    pub(crate) async fn commit(self) -> Result<Vec<BoxFuture<'static, ()>>, sqlx::Error> {
        self.transaction.commit().await?;
        Ok(self.after_commit)
    }
}

impl Deref for Tx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.transaction
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.transaction
    }
}

/// A handler of event type `E`. Implement it on a service's handler struct (one impl per event
/// type) and register it with [`Handlers::on`], or register a closure returning a boxed future
/// with [`Handlers::on_fn`]:
///
/// ```
/// # use stream_lib::{Envelope, Event, handler::{Handle, HandlerError, Handlers, Tx}};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct OrderPaid { order_id: uuid::Uuid }
/// # impl Event for OrderPaid { const TYPE: &'static str = "order.paid"; }
/// let handlers = Handlers::new().on_fn(|tx: &mut Tx, paid: OrderPaid, _meta: &Envelope| {
///     Box::pin(async move {
///         sqlx::query("UPDATE sales SET paid = true WHERE order_id = $1")
///             .bind(paid.order_id)
///             .execute(&mut **tx)
///             .await?;
///         Ok(())
///     })
/// });
/// assert_eq!(handlers.types().collect::<Vec<_>>(), ["order.paid"]);
///
/// // A service's handler struct: one `impl Handle<E>` per event type, `async fn` works.
/// #[derive(Clone)]
/// struct Sales;
///
/// impl Handle<OrderPaid> for Sales {
///     async fn handle(&self, tx: &mut Tx, paid: OrderPaid, _meta: &Envelope) -> Result<(), HandlerError> {
///         sqlx::query("UPDATE sales SET paid = true WHERE order_id = $1")
///             .bind(paid.order_id)
///             .execute(&mut **tx)
///             .await?;
///         Ok(())
///     }
/// }
///
/// let handlers = Handlers::new().on::<OrderPaid, _>(Sales);
/// assert!(handlers.handles("order.paid"));
/// ```
pub trait Handle<E: Event>: Send + Sync + 'static {
    /// Applies `event` inside `tx`. `meta` is the whole envelope (event id, correlation id).
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: E,
        meta: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// A closure as a [`Handle`] (what [`Handlers::on_fn`] registers).
pub struct FnHandler<F>(F);

impl<E, F> Handle<E> for FnHandler<F>
where
    E: Event,
    F: for<'a> Fn(&'a mut Tx, E, &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>>
        + Send
        + Sync
        + 'static,
{
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: E,
        meta: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a {
        (self.0)(tx, event, meta)
    }
}

/// One entry of a run given to a [`HandleBatch`] handler: the decoded event and its envelope
/// (event id, correlation id).
#[derive(Debug)]
pub struct Delivered<'a, E> {
    pub event: E,
    pub meta: &'a Envelope,
}

/// A handler of event type `E` that takes a run of entries at once, so it can act set-based
/// (a few statements for the whole run instead of a few per entry). Register it with
/// [`Handlers::on_batch`].
///
/// The consumer calls it once for every run of consecutive entries of type `E` in a sub-batch
/// (entries already in the inbox left out), in stream order, inside the sub-batch's [`Tx`];
/// entries of other types before and after the run are applied before and after the call.
/// The call is all-or-nothing: when it fails (other than [`HandlerError::Unavailable`]) or
/// passes the deadline, the transaction is rolled back and every entry of the sub-batch runs
/// again on its own under a savepoint, this handler called with a one-entry run, so only the bad
/// entry fails. A handler must therefore give the same outcome for a run as for its entries one
/// by one in the same order.
///
/// ```
/// # use stream_lib::{Event, handler::{Delivered, HandleBatch, HandlerError, Handlers, Tx}};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct OrderPaid { order_id: uuid::Uuid }
/// # impl Event for OrderPaid { const TYPE: &'static str = "order.paid"; }
/// struct Sales;
///
/// impl HandleBatch<OrderPaid> for Sales {
///     async fn handle_batch(&self, tx: &mut Tx, paid: Vec<Delivered<'_, OrderPaid>>) -> Result<(), HandlerError> {
///         let ids: Vec<uuid::Uuid> = paid.iter().map(|p| p.event.order_id).collect();
///         sqlx::query("UPDATE sales SET paid = true WHERE order_id = ANY($1)")
///             .bind(&ids)
///             .execute(&mut **tx)
///             .await?;
///         Ok(())
///     }
/// }
///
/// let handlers = Handlers::new().on_batch::<OrderPaid, _>(Sales);
/// assert!(handlers.handles("order.paid"));
/// ```
pub trait HandleBatch<E: Event>: Send + Sync + 'static {
    /// Applies `events` (at least one, in stream order) inside `tx`.
    fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: Vec<Delivered<'a, E>>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// Why a run given to a batch handler failed.
pub(crate) enum RunError {
    /// The entry at this position of the run does not decode as its type.
    Undecodable(usize, HandlerError),
    /// The handler failed for the run as a whole.
    Failed(HandlerError),
}

/// A handler with its event type erased, as the registry keeps it.
trait Erased: Send + Sync {
    fn aggregate_id(&self, envelope: &Envelope) -> Result<Option<Uuid>, HandlerError>;

    /// Whether runs of entries go to [`Erased::call_run`] in one call.
    fn batched(&self) -> bool {
        false
    }

    fn call<'a>(
        &'a self,
        tx: &'a mut Tx,
        envelope: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;

    /// Applies a run of entries of this type; one entry at a time unless the handler is batched.
    fn call_run<'a>(
        &'a self,
        tx: &'a mut Tx,
        envelopes: &'a [&'a Envelope],
    ) -> BoxFuture<'a, Result<(), RunError>> {
        Box::pin(async move {
            for envelope in envelopes {
                self.call(tx, envelope).await.map_err(RunError::Failed)?;
            }
            Ok(())
        })
    }
}

struct Typed<E, H> {
    handler: H,
    event: PhantomData<fn() -> E>,
}

/// The payload of `envelope` as `E`; a payload that does not decode is a permanent failure.
fn decoded<E: Event>(envelope: &Envelope) -> Result<E, HandlerError> {
    envelope.decode::<E>().map_err(HandlerError::permanent)
}

impl<E: Event, H: Handle<E>> Erased for Typed<E, H> {
    fn aggregate_id(&self, envelope: &Envelope) -> Result<Option<Uuid>, HandlerError> {
        Ok(decoded::<E>(envelope)?.aggregate_id())
    }

    fn call<'a>(
        &'a self,
        tx: &'a mut Tx,
        envelope: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let event = decoded::<E>(envelope)?;
            self.handler.handle(tx, event, envelope).await
        })
    }
}

struct Batched<E, H> {
    handler: H,
    event: PhantomData<fn() -> E>,
}

impl<E: Event, H: HandleBatch<E>> Batched<E, H> {
    fn decode<'a>(envelopes: &'a [&'a Envelope]) -> Result<Vec<Delivered<'a, E>>, RunError> {
        envelopes
            .iter()
            .enumerate()
            .map(|(index, meta)| match decoded::<E>(meta) {
                Ok(event) => Ok(Delivered { event, meta }),
                Err(error) => Err(RunError::Undecodable(index, error)),
            })
            .collect()
    }
}

impl<E: Event, H: HandleBatch<E>> Erased for Batched<E, H> {
    fn aggregate_id(&self, envelope: &Envelope) -> Result<Option<Uuid>, HandlerError> {
        Ok(decoded::<E>(envelope)?.aggregate_id())
    }

    fn batched(&self) -> bool {
        true
    }

    fn call<'a>(
        &'a self,
        tx: &'a mut Tx,
        envelope: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let event = decoded::<E>(envelope)?;
            let one = vec![Delivered {
                event,
                meta: envelope,
            }];
            self.handler.handle_batch(tx, one).await
        })
    }

    fn call_run<'a>(
        &'a self,
        tx: &'a mut Tx,
        envelopes: &'a [&'a Envelope],
    ) -> BoxFuture<'a, Result<(), RunError>> {
        Box::pin(async move {
            let events = Self::decode(envelopes)?;
            self.handler
                .handle_batch(tx, events)
                .await
                .map_err(RunError::Failed)
        })
    }
}

/// The typed handlers of one consumer, by event type. The consumer handles exactly the
/// registered types; an entry of any other type is acked and counted
/// (`stream_entries_skipped_total{stream,group,type}`).
#[derive(Clone, Default)]
pub struct Handlers {
    by_type: HashMap<&'static str, Arc<dyn Erased>>,
}

impl Handlers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of `E::TYPE` (a second registration of one type replaces the
    /// first).
    pub fn on<E: Event, H: Handle<E>>(mut self, handler: H) -> Self {
        self.by_type.insert(
            E::TYPE,
            Arc::new(Typed {
                handler,
                event: PhantomData,
            }),
        );
        self
    }

    /// Registers the batch handler of `E::TYPE`: it is given each run of consecutive entries
    /// of that type at once (see [`HandleBatch`]). A later registration of the same type, by
    /// [`Handlers::on`] or this, replaces it.
    pub fn on_batch<E: Event, H: HandleBatch<E>>(mut self, handler: H) -> Self {
        self.by_type.insert(
            E::TYPE,
            Arc::new(Batched {
                handler,
                event: PhantomData,
            }),
        );
        self
    }

    /// Registers a closure as the handler of `E::TYPE`; it returns its future boxed
    /// (`Box::pin(async move { .. })`).
    pub fn on_fn<E, F>(self, handler: F) -> Self
    where
        E: Event,
        F: for<'a> Fn(&'a mut Tx, E, &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>>
            + Send
            + Sync
            + 'static,
    {
        self.on::<E, _>(FnHandler(handler))
    }

    /// The handled event types.
    pub fn types(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_type.keys().copied()
    }

    /// Whether `event_type` has a handler.
    pub fn handles(&self, event_type: &str) -> bool {
        self.by_type.contains_key(event_type)
    }

    /// The aggregate of `envelope` (by decoding its payload); `Err(Permanent)` when the payload
    /// does not decode as its type, `Ok(None)` for an unhandled type.
    pub(crate) fn aggregate_id(&self, envelope: &Envelope) -> Result<Option<Uuid>, HandlerError> {
        match self.by_type.get(envelope.event_type.as_str()) {
            Some(handler) => handler.aggregate_id(envelope),
            None => Ok(None),
        }
    }

    /// Whether entries of `event_type` go to a batch handler, a run at a time.
    pub(crate) fn batched(&self, event_type: &str) -> bool {
        self.by_type
            .get(event_type)
            .is_some_and(|handler| handler.batched())
    }

    /// Runs the handler of a run of entries of one type (the first's) inside `tx`: one call
    /// for a batch handler, one call per entry otherwise.
    pub(crate) async fn call_run(
        &self,
        tx: &mut Tx,
        envelopes: &[&Envelope],
    ) -> Result<(), RunError> {
        let Some(first) = envelopes.first() else {
            return Ok(());
        };
        match self.by_type.get(first.event_type.as_str()) {
            Some(handler) => handler.call_run(tx, envelopes).await,
            None => Ok(()),
        }
    }

    /// Runs the handler of `envelope`'s type inside `tx` (a batch handler with a one-entry
    /// run).
    pub async fn call(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandlerError> {
        match self.by_type.get(envelope.event_type.as_str()) {
            Some(handler) => handler.call(tx, envelope).await,
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut types: Vec<&str> = self.types().collect();
        types.sort_unstable();
        formatter
            .debug_struct("Handlers")
            .field("types", &types)
            .finish()
    }
}
