//! Cross-site request forgery: the session cookies are `SameSite=Strict`, which stops other
//! sites but not a sibling subdomain (same site), and some state-changing routes take no body
//! (cancel, logout, refresh, demo login, dead-letter replay), so no content type stops a form
//! from posting to them. A state-changing request that carries a cookie is therefore refused
//! (403 `cross_site_request`) when its `Origin` (or, without one, its `Referer`) names another
//! host than the one it was sent to. Requests without cookies (API clients with a bearer token)
//! cannot be forged this way and pass; so does a cookie request with neither header, which no
//! current browser sends for a POST.

use axum::{
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};

use crate::error::ErrorBody;

/// The middleware (part of [`crate::http::layers`]).
pub async fn same_site_only(request: Request, next: Next) -> Response {
    if allowed(request.method(), request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        origin = ?request.headers().get(header::ORIGIN),
        referer = ?request.headers().get(header::REFERER).map(|_| "present"),
        "cross-site request refused"
    );
    ErrorBody::new(
        "cross_site_request",
        "this request came from another site and was refused",
    )
    .into_response_with(StatusCode::FORBIDDEN)
}

fn allowed(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if !headers.contains_key(header::COOKIE) || headers.contains_key(header::AUTHORIZATION) {
        return true;
    }
    let text = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let claimed = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => origin,
        (None, Some(referer)) => referer,
        (None, None) => return true,
    };
    match (host_of_url(claimed), text(header::HOST).map(hostname)) {
        (Some(from), Some(to)) => from.eq_ignore_ascii_case(to),
        _ => false,
    }
}

/// The host name of an absolute URL (`https://shop.example:8443/path` -> `shop.example`);
/// `None` for `null` and anything that is not one.
fn host_of_url(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = hostname(authority);
    (!host.is_empty()).then_some(host)
}

/// A `Host` value without its port (`[::1]:8080` -> `[::1]`, `shop.example:80` -> `shop.example`).
fn hostname(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    const COOKIE: (&str, &str) = ("cookie", "access_token=x");
    const HOST: (&str, &str) = ("host", "shop.example.com");

    #[test]
    fn a_cookie_post_from_another_host_is_refused_even_a_sibling_subdomain() {
        for origin in [
            "https://evil.example.com",
            "https://shop.example.com.evil.net",
            "null",
            "nonsense",
        ] {
            let map = headers(&[COOKIE, HOST, ("origin", origin)]);
            assert!(!allowed(&Method::POST, &map), "{origin}");
        }
        let by_referer = headers(&[COOKIE, HOST, ("referer", "https://evil.example.com/page")]);
        assert!(!allowed(&Method::DELETE, &by_referer));
    }

    #[test]
    fn the_same_host_passes_whatever_the_port_and_scheme() {
        for origin in [
            "https://shop.example.com",
            "http://shop.example.com:8080",
            "https://SHOP.example.com",
        ] {
            let map = headers(&[
                COOKIE,
                ("host", "shop.example.com:8443"),
                ("origin", origin),
            ]);
            assert!(allowed(&Method::POST, &map), "{origin}");
        }
        let by_referer = headers(&[COOKIE, HOST, ("referer", "https://shop.example.com/cart")]);
        assert!(allowed(&Method::PUT, &by_referer));
        let ipv6 = headers(&[
            COOKIE,
            ("host", "[::1]:8080"),
            ("origin", "http://[::1]:8080"),
        ]);
        assert!(allowed(&Method::POST, &ipv6));
    }

    #[test]
    fn reads_bearer_clients_and_requests_without_cookies_pass() {
        let evil = ("origin", "https://evil.example.com");
        assert!(allowed(&Method::GET, &headers(&[COOKIE, HOST, evil])));
        assert!(allowed(&Method::POST, &headers(&[HOST, evil])));
        assert!(allowed(
            &Method::POST,
            &headers(&[COOKIE, HOST, evil, ("authorization", "Bearer t")])
        ));
        assert!(allowed(&Method::POST, &headers(&[COOKIE, HOST])));
    }
}
