//! `GET /api/orders/{id}/events`: Server-Sent Events with the order's current status first, then
//! every change as it commits (on any replica), plus keep-alive comments.
//!
//! Each message is `event: status`, `id: <version>`, `data: <StatusChange JSON>`
//! (`{order_id, user_id, status, reason, expires_at, updated_at, version, total}`). Versions only
//! grow; a stale or repeated change is never sent.
//!
//! A stream lives no longer than the session that opened it: it ends when the access token
//! expires, and when the token is revoked (the deny-list is read again at every resync), with an
//! `event: session_ended` message; the browser's EventSource then reconnects with its refreshed
//! cookie, or is refused. A user may hold [`STREAMS_PER_USER`] streams at once per replica.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use auth_kit::{AuthUser, Verifier};
use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use sqlx::PgPool;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::{ErrorBody, Path};

use crate::{
    domain::OrderId,
    error::ApiError,
    live::{Live, StatusChange},
    routes::orders::actor,
    state::Timing,
    usecases::show_order::{current_status, visible_order},
};

/// How many event streams one user may hold open at once (per replica).
pub const STREAMS_PER_USER: usize = 8;

/// Counts the event streams open per user. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StreamSlots {
    per_user: usize,
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// One open stream; dropping it frees the slot.
pub struct StreamSlot {
    user_id: Uuid,
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl StreamSlots {
    pub fn new(per_user: usize) -> Self {
        Self {
            per_user,
            open: Arc::default(),
        }
    }

    /// A slot for one more stream of `user_id`, unless they hold as many as allowed.
    fn take(&self, user_id: Uuid) -> Option<StreamSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let count = open.entry(user_id).or_insert(0);
        if *count >= self.per_user {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            user_id,
            open: self.open.clone(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(count) = open.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/orders/{id}/events",
    tag = crate::routes::orders::TAG,
    operation_id = "order_events",
    summary = "The order's status, live (Server-Sent Events)",
    description = "`event: status`, `id: <version>`, `data: {order_id, user_id, status, reason, \
        expires_at, updated_at, version, total}`: the current status first, then every change; \
        keep-alive comments between. The stream ends when the session does.",
    params(("id" = Uuid, Path, description = "The order's id.")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such order, or not yours (`order_not_found`).", body = ErrorBody),
        (status = 429, description = "Too many live order views open for this user (`too_many_streams`).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
#[allow(clippy::too_many_arguments)] // axum extractors, one per piece of state
pub async fn stream(
    user: AuthUser,
    State(pool): State<PgPool>,
    State(live): State<Live>,
    State(shutdown): State<CancellationToken>,
    State(timing): State<Timing>,
    State(slots): State<StreamSlots>,
    State(verifier): State<Verifier>,
    Path(order_id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let order_id = OrderId::from(order_id);
    let slot = slots.take(user.id).ok_or(ApiError::TooManyStreams)?;
    // Subscribe before reading the snapshot, so no change falls in between.
    let mut changes = live.subscribe();
    let mut connection = pool.acquire().await?;
    let snapshot = visible_order(&mut connection, actor(&user), order_id)
        .await?
        .to_change()?;
    drop(connection);

    let (sender, receiver) = mpsc::channel::<Result<Event, Infallible>>(16);
    let session_ends = session_end(user.expires_at);
    tokio::spawn(async move {
        let _slot = slot;
        let session_ends = tokio::time::sleep_until(session_ends);
        tokio::pin!(session_ends);
        let mut last_version = snapshot.version;
        if sender.send(Ok(message(&snapshot))).await.is_err() {
            return;
        }
        let mut resync = tokio::time::interval(timing.resync);
        resync.reset();
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => break,
                () = sender.closed() => break,
                () = &mut session_ends => {
                    let _ = sender.send(Ok(ended("expired"))).await;
                    break;
                }
                _ = resync.tick() => {
                    // A revoked session (logout, sign out everywhere) ends the stream; so does
                    // an unreadable deny-list (fail closed).
                    if !matches!(verifier.is_revoked(&user.token_id).await, Ok(false)) {
                        let _ = sender.send(Ok(ended("revoked"))).await;
                        break;
                    }
                    current_status(&pool, order_id).await
                }
                received = changes.recv() => match received {
                    Ok(change) if change.order_id == order_id.as_uuid() => Some(change),
                    Ok(_) => None,
                    // Missed some: the database has the truth.
                    Err(RecvError::Lagged(_)) => current_status(&pool, order_id).await,
                    Err(RecvError::Closed) => break,
                },
            };
            if let Some(change) = next.filter(|change| change.version > last_version) {
                last_version = change.version;
                if sender.send(Ok(message(&change))).await.is_err() {
                    break;
                }
            }
        }
    });

    let mut response = Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::new().interval(timing.keep_alive))
        .into_response();
    let headers = response.headers_mut();
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// When a token expiring at `expires_at` (unix seconds) ends, as a tokio instant.
fn session_end(expires_at: i64) -> tokio::time::Instant {
    let left = expires_at - time::OffsetDateTime::now_utc().unix_timestamp();
    tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0))
}

/// The last message of a stream whose session ended.
fn ended(why: &'static str) -> Event {
    Event::default().event("session_ended").data(why)
}

fn message(change: &StatusChange) -> Event {
    Event::default()
        .event("status")
        .id(change.version.to_string())
        .json_data(change)
        .unwrap_or_else(|_| Event::default().comment("unserialisable change"))
}

/// Defaults for production.
impl Default for Timing {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(10),
            keep_alive: Duration::from_secs(15),
        }
    }
}
