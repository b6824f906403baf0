//! `GET /api/orders/{id}/events`: Server-Sent Events with the order's current status first, then
//! every change as it commits (on any replica), plus keep-alive comments.
//!
//! Each message is `event: status`, `id: <version>`, `data: <StatusChange JSON>`
//! (`{order_id, user_id, status, reason, expires_at, updated_at, version, total}`). Versions only
//! grow; a stale or repeated change is never sent.

use std::{convert::Infallible, time::Duration};

use auth_kit::AuthUser;
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
use web_kit::Path;

use crate::{
    db::orders,
    error::ApiError,
    live::{Live, StatusChange},
    routes::orders::visible,
    state::Timing,
};

pub async fn stream(
    user: AuthUser,
    State(pool): State<PgPool>,
    State(live): State<Live>,
    State(shutdown): State<CancellationToken>,
    State(timing): State<Timing>,
    Path(order_id): Path<Uuid>,
) -> Result<Response, ApiError> {
    // Subscribe before reading the snapshot, so no change falls in between.
    let mut changes = live.subscribe();
    let mut connection = pool.acquire().await?;
    let snapshot = visible(&mut connection, &user, order_id)
        .await?
        .to_change()?;
    drop(connection);

    let (sender, receiver) = mpsc::channel::<Result<Event, Infallible>>(16);
    tokio::spawn(async move {
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
                _ = resync.tick() => reread(&pool, order_id).await,
                received = changes.recv() => match received {
                    Ok(change) if change.order_id == order_id => Some(change),
                    Ok(_) => None,
                    // Missed some: the database has the truth.
                    Err(RecvError::Lagged(_)) => reread(&pool, order_id).await,
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

fn message(change: &StatusChange) -> Event {
    Event::default()
        .event("status")
        .id(change.version.to_string())
        .json_data(change)
        .unwrap_or_else(|_| Event::default().comment("unserialisable change"))
}

async fn reread(pool: &PgPool, order_id: Uuid) -> Option<StatusChange> {
    let mut connection = pool.acquire().await.ok()?;
    let order = orders::find(&mut connection, order_id).await.ok()??;
    order.to_change().ok()
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
