//! The handler contract: typed handlers registered per event type ([`Handlers`]), the
//! transaction they run in ([`Tx`]), and how they fail ([`HandlerError`]).

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

/// A handler with its event type erased, as the registry keeps it.
trait Erased: Send + Sync {
    fn aggregate_id(&self, envelope: &Envelope) -> Result<Option<Uuid>, HandlerError>;

    fn call<'a>(
        &'a self,
        tx: &'a mut Tx,
        envelope: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
}

struct Typed<E, H> {
    handler: H,
    event: PhantomData<fn() -> E>,
}

impl<E: Event, H: Handle<E>> Erased for Typed<E, H> {
    fn aggregate_id(&self, envelope: &Envelope) -> Result<Option<Uuid>, HandlerError> {
        let event = envelope.decode::<E>().map_err(HandlerError::permanent)?;
        Ok(event.aggregate_id())
    }

    fn call<'a>(
        &'a self,
        tx: &'a mut Tx,
        envelope: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let event = envelope.decode::<E>().map_err(HandlerError::permanent)?;
            self.handler.handle(tx, event, envelope).await
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

    /// Runs the handler of `envelope`'s type inside `tx`.
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
