//! Standard HTTP caching of catalog reads: `ETag` / `If-None-Match` -> 304, `Cache-Control`
//! public for a second when anonymous, private for a signed-in caller, never stored for a
//! seller's own listings.

use serde_json::json;

use crate::helpers::{TestApp, id_of, spawn_app};

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

/// GETs `path` anonymously, then again with its ETag: (ETag, status of the second response).
async fn revalidate(app: &TestApp, path: &str) -> (String, u16) {
    let first = app.get(path).await;
    assert_eq!(first.status(), 200, "{path}");
    assert_eq!(
        header(&first, "cache-control").as_deref(),
        Some("public, max-age=0, s-maxage=1, stale-while-revalidate=1"),
        "{path}"
    );
    assert_eq!(
        header(&first, "vary").as_deref(),
        Some("Authorization, Cookie")
    );
    let tag = header(&first, "etag").expect("an ETag");
    let second = app.get_with(path, &[("if-none-match", &tag)]).await;
    let status = second.status().as_u16();
    if status == 304 {
        assert_eq!(header(&second, "etag").as_deref(), Some(tag.as_str()));
        assert_eq!(
            header(&second, "cache-control").as_deref(),
            Some("public, max-age=0, s-maxage=1, stale-while-revalidate=1")
        );
        assert!(
            second.bytes().await.unwrap().is_empty(),
            "a 304 has no body"
        );
    }
    (tag, status)
}

#[tokio::test]
async fn anonymous_catalog_reads_revalidate_to_304_until_they_change() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    let listing = app.listing(&seller, json!({})).await;
    let id = id_of(&listing);
    let product = format!("/api/products/{id}");

    for path in [
        "/api/products",
        "/api/products?q=blue&category=Records",
        "/api/products/categories",
        product.as_str(),
    ] {
        let (_, status) = revalidate(&app, path).await;
        assert_eq!(status, 304, "{path}");
    }
    let (product_tag, _) = revalidate(&app, &product).await;
    assert_eq!(product_tag, format!("\"{}\"", listing["version"]));
    let (list_tag, _) = revalidate(&app, "/api/products").await;

    let response = app
        .patch_product(
            Some(&seller),
            &id.to_string(),
            None,
            &json!({"price": "19.99"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    for (path, old) in [
        (product.as_str(), &product_tag),
        ("/api/products", &list_tag),
    ] {
        let changed = app.get_with(path, &[("if-none-match", old)]).await;
        assert_eq!(
            changed.status(),
            200,
            "{path}: the old ETag no longer matches"
        );
        assert_ne!(header(&changed, "etag").as_ref(), Some(old));
    }
    app.stop().await;
}

#[tokio::test]
async fn signed_in_reads_are_private_and_a_sellers_own_listings_are_never_stored() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    app.listing(&seller, json!({})).await;

    let bearer = app.get_as(&seller, "/api/products").await;
    assert_eq!(bearer.status(), 200);
    assert_eq!(
        header(&bearer, "cache-control").as_deref(),
        Some("private, no-cache")
    );
    assert_eq!(
        header(&bearer, "x-accel-expires"),
        None,
        "nginx would let it override private"
    );
    let cookie = format!("theme=dark; access_token={}", seller.token);
    let with_cookie = app.get_with("/api/products", &[("cookie", &cookie)]).await;
    assert_eq!(
        header(&with_cookie, "cache-control").as_deref(),
        Some("private, no-cache")
    );
    let mine = app.get_as(&seller, "/api/products/mine").await;
    assert_eq!(mine.status(), 200);
    assert_eq!(
        header(&mine, "cache-control").as_deref(),
        Some("private, no-store")
    );
    assert_eq!(header(&mine, "etag"), None);

    // Errors carry nothing a shared cache would keep.
    for path in [
        "/api/products?page=0",
        "/api/products/0193a1d0-5eed-7000-8000-00000000dead",
    ] {
        let error = app.get(path).await;
        assert!(error.status().is_client_error(), "{path}");
        assert_eq!(header(&error, "cache-control"), None, "{path}");
    }
    app.stop().await;
}
