//! Standard HTTP caching of the catalog's reads: an `ETag` on every page, list and listing, a
//! `304 Not Modified` when `If-None-Match` names it, and a `Cache-Control` that lets a shared
//! cache (the storefront's nginx) serve an anonymous read for [`SHARED_MAX_AGE`] second
//! (`s-maxage`; browsers revalidate every time, `max-age=0`), while a signed-in caller's responses
//! are private (never stored by a shared cache) and a seller's own listings are never stored.
//!
//! nginx counts freshness in whole seconds from when it stores a response, so `s-maxage=1` alone
//! could keep it until almost two seconds after the data was read, plus the age of any counts in
//! it. An anonymous response therefore also carries `X-Accel-Expires: @<t>` (nginx's own header,
//! which it prefers and never forwards): `t` is the second in which the oldest figure in it was
//! read, so the copy is fresh until that second ends. `stale-while-revalidate=1` then lets nginx
//! answer from the expired copy for one more second while a single background request refreshes
//! it (no burst waits on a refresh), so nginx serves nothing older than two seconds. nginx reads
//! `stale-while-revalidate` only from a `Cache-Control` that comes before `X-Accel-Expires`,
//! which is the order [`cacheable`] writes them in.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Seconds a shared cache may serve an anonymous catalog read without asking again (nginx
/// keeps it less: see [`accel_expires`]).
pub const SHARED_MAX_AGE: u32 = 1;

/// Seconds past its expiry a shared cache may still answer with a read while it refreshes it.
pub const STALE_WHILE_REVALIDATE: u32 = 1;

/// The request headers a response's cacheability depends on.
const VARY: &str = "Authorization, Cookie";

const X_ACCEL_EXPIRES: header::HeaderName = header::HeaderName::from_static("x-accel-expires");

/// Who a read is for, as far as caching goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// No credentials: the response is the same for everyone.
    Anonymous,
    /// A bearer token or the session cookie (valid or not): a shared cache must not keep it, so
    /// a seller sees their own change at once.
    SignedIn,
}

impl Audience {
    pub fn of(headers: &HeaderMap) -> Self {
        let session_cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|cookies| cookies.split(';'))
            .any(|cookie| {
                cookie
                    .trim_start()
                    .strip_prefix(auth_kit::ACCESS_COOKIE)
                    .is_some_and(|rest| rest.starts_with('='))
            });
        if session_cookie || headers.contains_key(header::AUTHORIZATION) {
            Self::SignedIn
        } else {
            Self::Anonymous
        }
    }

    fn cache_control(self) -> HeaderValue {
        match self {
            Self::Anonymous => HeaderValue::from_str(&format!(
                "public, max-age=0, s-maxage={SHARED_MAX_AGE}, \
                     stale-while-revalidate={STALE_WHILE_REVALIDATE}"
            ))
            .unwrap_or(HeaderValue::from_static("no-cache")),
            Self::SignedIn => HeaderValue::from_static("private, no-cache"),
        }
    }
}

/// A strong entity tag for a response body: the first 16 bytes of its SHA-256, so every replica
/// tags the same body the same way.
pub fn body_tag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `tag` (weak comparison, as RFC 9110 asks for this header) or
/// is `*`.
fn matches(headers: &HeaderMap, tag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let wanted = opaque(tag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .any(|candidate| candidate.trim() == "*" || opaque(candidate) == wanted)
}

/// `X-Accel-Expires` for data read at `as_of`: nginx keeps it fresh while its clock's whole
/// second is `as_of`'s, and may answer with it while refreshing for [`STALE_WHILE_REVALIDATE`]
/// more, so under two seconds after `as_of`.
fn accel_expires(as_of: SystemTime) -> HeaderValue {
    let second = as_of
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    HeaderValue::from_str(&format!("@{second}")).unwrap_or(HeaderValue::from_static("0"))
}

/// A cacheable read: `body` (already JSON) under `tag`, or a bodiless 304 when the client has
/// it. Either way with the validators and the caching rules for `headers`' audience; `as_of` is
/// when the oldest figure in it was read.
pub fn cacheable(
    headers: &HeaderMap,
    status: StatusCode,
    tag: &str,
    body: Vec<u8>,
    as_of: SystemTime,
) -> Response {
    let tag = HeaderValue::from_str(tag).unwrap_or(HeaderValue::from_static("\"0\""));
    let audience = Audience::of(headers);
    let mut caching = vec![
        (header::CACHE_CONTROL, audience.cache_control()),
        (header::VARY, HeaderValue::from_static(VARY)),
    ];
    if audience == Audience::Anonymous {
        // Never on a private response: nginx lets this header override Cache-Control. After
        // Cache-Control, or nginx would skip that header's stale-while-revalidate.
        caching.push((X_ACCEL_EXPIRES, accel_expires(as_of)));
    }
    let tag_text = tag.to_str().unwrap_or_default().to_owned();
    let mut response = if status == StatusCode::OK && matches(headers, &tag_text) {
        (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response()
    } else {
        (
            status,
            [
                (header::ETAG, tag),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
            ],
            Body::from(body),
        )
            .into_response()
    };
    response.headers_mut().extend(caching);
    response
}

/// [`cacheable`] with a tag made from the body itself.
pub fn cacheable_json(
    headers: &HeaderMap,
    value: &impl Serialize,
    as_of: SystemTime,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(anyhow::Error::from)?;
    let tag = body_tag(&body);
    Ok(cacheable(headers, StatusCode::OK, &tag, body, as_of))
}

/// A read that no cache may store: a seller's own listings.
pub fn never_stored(value: &impl Serialize) -> Response {
    (
        [(header::CACHE_CONTROL, "private, no-store")],
        web_kit::Json(value),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn credentials_make_a_read_private() {
        assert_eq!(Audience::of(&headers(&[])), Audience::Anonymous);
        assert_eq!(
            Audience::of(&headers(&[("cookie", "theme=dark; other_access_token=1")])),
            Audience::Anonymous
        );
        assert_eq!(
            Audience::of(&headers(&[("cookie", "theme=dark; access_token=abc")])),
            Audience::SignedIn
        );
        assert_eq!(
            Audience::of(&headers(&[("authorization", "Bearer x")])),
            Audience::SignedIn
        );
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        assert!(matches(&headers(&[("if-none-match", "\"ab\"")]), "\"ab\""));
        assert!(matches(
            &headers(&[("if-none-match", "W/\"ab\"")]),
            "\"ab\""
        ));
        assert!(matches(
            &headers(&[("if-none-match", "\"x\", W/\"ab\"")]),
            "\"ab\""
        ));
        assert!(matches(&headers(&[("if-none-match", "*")]), "\"ab\""));
        assert!(!matches(
            &headers(&[("if-none-match", "\"abc\"")]),
            "\"ab\""
        ));
        assert!(!matches(&headers(&[]), "\"ab\""));
    }

    #[test]
    fn nginx_keeps_a_read_fresh_until_its_second_ends() {
        let read = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_900);
        assert_eq!(accel_expires(read), "@1700000000");
    }

    #[test]
    fn an_anonymous_read_names_cache_control_before_x_accel_expires() {
        let response = cacheable(
            &headers(&[]),
            StatusCode::OK,
            "\"ab\"",
            b"{}".to_vec(),
            SystemTime::now(),
        );
        let names: Vec<_> = response
            .headers()
            .keys()
            .map(|name| name.as_str())
            .collect();
        let position = |wanted: &str| names.iter().position(|name| *name == wanted);
        assert!(
            position("cache-control") < position("x-accel-expires")
                && position("x-accel-expires").is_some(),
            "{names:?}"
        );
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=0, s-maxage=1, stale-while-revalidate=1"
        );
    }

    #[test]
    fn the_same_body_gets_the_same_tag() {
        assert_eq!(body_tag(b"{}"), body_tag(b"{}"));
        assert_ne!(body_tag(b"{}"), body_tag(b"[]"));
        assert_eq!(body_tag(b"{}").len(), 34);
    }
}
