//! The admin stream API behind the storefront's admin page (admins only): stream health, the
//! dead letters, and replay of one dead letter onto its origin stream. Thin handlers over
//! [`crate::usecases::stream_admin`].

use auth_kit::AdminUser;
use axum::{extract::State, response::IntoResponse};
use serde::Deserialize;
use stream_lib::{StreamKeys, StreamRedis};
use utoipa::{IntoParams, ToSchema};
use web_kit::{ErrorBody, Json, Path, Query};

use crate::{error::ApiError, usecases::stream_admin};

/// `GET /api/admin/streams` -> `[{stream, length, groups: [{name, consumers, pending, lag,
/// last_delivered_id}]}]`.
#[utoipa::path(
    get,
    path = "/api/admin/streams",
    tag = TAG,
    operation_id = "stream_health",
    summary = "Length and consumer groups of every stream (administrators)",
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every stream with its groups.", body = [stream_lib::admin::StreamHealth]),
        (status = 403, description = "Not an administrator (`forbidden`).", body = ErrorBody),
    ),
)]
pub async fn streams(
    _admin: AdminUser,
    State(redis): State<StreamRedis>,
    State(keys): State<StreamKeys>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(stream_admin::stream_health(&redis, &keys).await?))
}

/// The OpenAPI tag of these routes.
const TAG: &str = "admin";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// How many, oldest first (default 50; 1 to 500, larger asks are cut to 500).
    #[param(minimum = 0)]
    count: Option<usize>,
}

/// The answer of a replay.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Replayed {
    /// The dead letter's id.
    pub id: String,
    /// The id of the entry appended to the origin stream.
    pub replayed_as: String,
}

/// `GET /api/admin/dead-letters?count=` (default 50, at most 500) -> `[{id, event_id,
/// event_type, origin_stream, origin_id, group, attempts, error, failed_at, fields}]`, oldest first.
#[utoipa::path(
    get,
    path = "/api/admin/dead-letters",
    tag = TAG,
    operation_id = "dead_letters",
    summary = "The dead letters, oldest first (administrators)",
    params(DeadLetterQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Dead letters with their error and origin.", body = [stream_lib::admin::DeadLetter]),
        (status = 403, description = "Not an administrator (`forbidden`).", body = ErrorBody),
    ),
)]
pub async fn dead_letters(
    _admin: AdminUser,
    State(redis): State<StreamRedis>,
    State(keys): State<StreamKeys>,
    Query(query): Query<DeadLetterQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let items = stream_admin::dead_letters(&redis, &keys, query.count).await?;
    Ok(Json(items))
}

/// `POST /api/admin/dead-letters/{id}/replay` -> `{id, replayed_as}`, or 404 when that dead
/// letter is gone (already replayed).
#[utoipa::path(
    post,
    path = "/api/admin/dead-letters/{id}/replay",
    tag = TAG,
    operation_id = "replay_dead_letter",
    summary = "Put a dead letter back on its origin stream, with its original event id (administrators)",
    params(("id" = String, Path, description = "The dead letter's stream id (`<ms>-<seq>`).")),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Replayed.", body = Replayed),
        (status = 403, description = "Not an administrator (`forbidden`), or a cross-site request (`cross_site_request`).", body = ErrorBody),
        (status = 404, description = "No such dead letter (already replayed?) (`not_found`).", body = ErrorBody),
    ),
)]
pub async fn replay(
    _admin: AdminUser,
    State(redis): State<StreamRedis>,
    State(keys): State<StreamKeys>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let replayed_as = stream_admin::replay_dead_letter(&redis, &keys, &id).await?;
    Ok(Json(Replayed { id, replayed_as }))
}
