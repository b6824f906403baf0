//! Keyset pagination: `after` / `before` continue from a listing the client has seen, so a
//! listing created meanwhile moves nothing between pages; pages asked by number start at the
//! first listing of that page, in every sort.

use serde_json::{Value, json};

use crate::{
    catalog::names,
    helpers::{TestApp, json_of, spawn_app},
};

async fn page(app: &TestApp, path: &str) -> Value {
    let (status, body) = json_of(app.get(path).await).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn id(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

/// 25 listings with distinct prices and names, in two categories.
async fn stock(app: &TestApp) {
    let seller = app.user("seller");
    for n in 0..25 {
        app.listing(
            &seller,
            json!({
                "name": format!("Listing {:02}", (n * 7) % 25),
                "price": format!("{}.00", 10 + (n * 11) % 25),
                "category": if n % 2 == 0 { "Records" } else { "Books" },
            }),
        )
        .await;
    }
}

#[tokio::test]
async fn pages_reached_with_after_do_not_shift_when_listings_are_created_meanwhile() {
    let app = spawn_app().await;
    stock(&app).await;
    let everything = names(&page(&app, "/api/products?per_page=100").await);

    let first = page(&app, "/api/products?per_page=10").await;
    assert_eq!(names(&first), everything[..10]);
    assert!(first["prev_before"].is_null());
    // Meanwhile three new listings go to the top of the newest-first order.
    let seller = app.user("other");
    for n in 0..3 {
        app.listing(&seller, json!({"name": format!("Newcomer {n}")}))
            .await;
    }
    let second = page(
        &app,
        &format!(
            "/api/products?per_page=10&page=2&after={}",
            id(&first["next_after"])
        ),
    )
    .await;
    assert_eq!(names(&second), everything[10..20], "nothing shifted");
    assert_eq!(second["page"], 2);
    let third = page(
        &app,
        &format!(
            "/api/products?per_page=10&page=3&after={}",
            id(&second["next_after"])
        ),
    )
    .await;
    assert_eq!(names(&third), everything[20..]);
    assert!(third["next_after"].is_null(), "the last page has no next");

    // Back from the third page: the second page again, then the first as it now is.
    let back = page(
        &app,
        &format!(
            "/api/products?per_page=10&page=2&before={}",
            id(&third["prev_before"])
        ),
    )
    .await;
    assert_eq!(names(&back), everything[10..20]);
    let top = page(
        &app,
        &format!(
            "/api/products?per_page=10&page=1&before={}",
            id(&back["prev_before"])
        ),
    )
    .await;
    assert_eq!(names(&top), everything[..10]);
    assert!(
        top["prev_before"].is_string(),
        "the three newcomers are before it: {top}"
    );
    let newest = page(
        &app,
        &format!(
            "/api/products?per_page=10&before={}",
            id(&top["prev_before"])
        ),
    )
    .await;
    assert_eq!(
        names(&newest)[..3],
        ["Newcomer 2", "Newcomer 1", "Newcomer 0"]
    );
    assert!(newest["prev_before"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn pages_asked_by_number_match_the_full_order_in_every_sort_and_filter() {
    let app = spawn_app().await;
    stock(&app).await;
    for query in [
        "sort=newest",
        "sort=price_asc",
        "sort=price_desc",
        "sort=name",
        "category=Records&sort=price_asc",
        "min_price=15&max_price=30&sort=name",
        "q=listing&sort=price_desc",
    ] {
        let everything = names(&page(&app, &format!("/api/products?per_page=100&{query}")).await);
        let mut by_number = Vec::new();
        let mut by_cursor = Vec::new();
        let mut after: Option<String> = None;
        for number in 1..=4 {
            let body = page(
                &app,
                &format!("/api/products?per_page=7&page={number}&{query}"),
            )
            .await;
            by_number.extend(names(&body));
            assert_eq!(body["total"], everything.len(), "{query}");
        }
        loop {
            let cursor = after
                .as_ref()
                .map(|id| format!("&after={id}"))
                .unwrap_or_default();
            let body = page(&app, &format!("/api/products?per_page=7{cursor}&{query}")).await;
            by_cursor.extend(names(&body));
            after = body["next_after"].as_str().map(str::to_owned);
            if after.is_none() || by_cursor.len() > everything.len() {
                break;
            }
        }
        assert_eq!(by_number, everything, "{query}: pages by number");
        assert_eq!(by_cursor, everything, "{query}: pages by cursor");
        let beyond = page(&app, &format!("/api/products?per_page=7&page=9&{query}")).await;
        assert_eq!(
            (names(&beyond).len(), beyond["total"].as_u64()),
            (0, Some(everything.len() as u64)),
            "{query}: past the end"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_cursor_on_a_deleted_listing_still_marks_its_place() {
    let app = spawn_app().await;
    stock(&app).await;
    let everything = page(&app, "/api/products?per_page=100").await;
    let gone = id(&everything["items"][4]["id"]);
    let response = app.delete_product(Some(&app.admin()), &gone).await;
    assert_eq!(response.status(), 204);
    let next = page(&app, &format!("/api/products?per_page=3&after={gone}")).await;
    assert_eq!(names(&next), names(&everything)[5..8]);
    app.stop().await;
}
