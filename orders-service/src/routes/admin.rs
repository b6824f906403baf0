//! The admin stream API behind the storefront's admin page (admins only): stream health, the
//! dead letters, and replay of one dead letter onto its origin stream.

use auth_kit::AdminUser;
use axum::{extract::State, response::IntoResponse};
use serde::Deserialize;
use stream_lib::{DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys};
use web_kit::{Json, Path, Query};

use crate::error::ApiError;

/// `GET /api/admin/streams` -> `[{stream, length, groups: [{name, consumers, pending, lag,
/// last_delivered_id}]}]`.
pub async fn streams(
    _admin: AdminUser,
    State(redis): State<deadpool_redis::Pool>,
    State(keys): State<StreamKeys>,
) -> Result<impl IntoResponse, ApiError> {
    let mut connection = redis.get().await?;
    let streams = stream_lib::admin::stream_health(
        &mut connection,
        &keys,
        &[ORDERS_STREAM, INVENTORY_STREAM, DEAD_LETTER_STREAM],
    )
    .await?;
    Ok(Json(streams))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    count: Option<usize>,
}

/// `GET /api/admin/dead-letters?count=` (default 50, at most 500) -> `[{id, event_id,
/// event_type, origin_stream, origin_id, group, attempts, error, failed_at, fields}]`, oldest first.
pub async fn dead_letters(
    _admin: AdminUser,
    State(redis): State<deadpool_redis::Pool>,
    State(keys): State<StreamKeys>,
    Query(query): Query<DeadLetterQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let count = query.count.unwrap_or(50).clamp(1, 500);
    let mut connection = redis.get().await?;
    let items = stream_lib::admin::dead_letters(&mut connection, &keys, count).await?;
    Ok(Json(items))
}

/// `POST /api/admin/dead-letters/{id}/replay` -> `{id, replayed_as}`, or 404 when that dead
/// letter is gone (already replayed).
pub async fn replay(
    _admin: AdminUser,
    State(redis): State<deadpool_redis::Pool>,
    State(keys): State<StreamKeys>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    if !is_stream_id(&id) {
        return Err(ApiError::NotFound("no such dead letter"));
    }
    let mut connection = redis.get().await?;
    match stream_lib::admin::replay(&mut connection, &keys, &id).await? {
        Some(new_id) => Ok(Json(serde_json::json!({ "id": id, "replayed_as": new_id }))),
        None => Err(ApiError::NotFound("no such dead letter")),
    }
}

/// `<ms>-<seq>`, as Redis stream ids are.
fn is_stream_id(id: &str) -> bool {
    id.split_once('-').is_some_and(|(ms, seq)| {
        !ms.is_empty()
            && !seq.is_empty()
            && ms.len() <= 20
            && seq.len() <= 20
            && ms.bytes().all(|b| b.is_ascii_digit())
            && seq.bytes().all(|b| b.is_ascii_digit())
    })
}
