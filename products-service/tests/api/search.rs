//! Search people forgive: ranked results, a typo-tolerant fallback when no word matches, and the
//! category counts (facets) of the current search.

use products_service::usecases::browse_catalog::RANKED_MATCHES;
use serde_json::json;

use crate::{
    catalog::{names, stock_catalog},
    helpers::{json_of, spawn_app},
};

#[tokio::test]
async fn a_misspelt_word_finds_what_was_meant_and_says_it_did() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    stock_catalog(&app, &seller).await;
    app.listing(
        &seller,
        json!({"name": "Rega Planar 3 turntable", "category": "Audio", "description": "belt drive"}),
    )
    .await;

    let (status, exact) = json_of(app.get("/api/products?q=turntable").await).await;
    assert_eq!(status, 200);
    assert_eq!(exact["fuzzy"], false);
    assert_eq!(exact["total"], 2, "{exact}");

    let (status, typo) = json_of(app.get("/api/products?q=turntabel").await).await;
    assert_eq!(status, 200);
    assert_eq!(typo["fuzzy"], true, "{typo}");
    assert_eq!(typo["sort"], "relevance");
    assert_eq!(
        names(&typo),
        ["Rega Planar 3 turntable"],
        "names are matched"
    );
    assert_eq!(typo["facets"], json!([{"name": "Audio", "count": 1}]));

    let (_, typo) = json_of(app.get("/api/products?q=coltrame").await).await;
    assert_eq!(typo["fuzzy"], true);
    assert_eq!(
        typo["total"], 0,
        "descriptions are not matched fuzzily: {typo}"
    );
    let (_, nothing) = json_of(app.get("/api/products?q=qqqqzzzz").await).await;
    assert_eq!(
        (nothing["total"].as_i64(), nothing["fuzzy"].as_bool()),
        (Some(0), Some(true))
    );
    app.stop().await;
}

#[tokio::test]
async fn facets_count_the_current_search_in_every_category() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    stock_catalog(&app, &seller).await;

    let (_, blue) = json_of(app.get("/api/products?q=blue").await).await;
    assert_eq!(blue["facets"], json!([{"name": "Records", "count": 2}]));
    let (_, coltrane) = json_of(app.get("/api/products?q=coltrane&category=Books").await).await;
    assert_eq!(coltrane["total"], 0, "none in the chosen category");
    assert_eq!(
        (coltrane["fuzzy"].as_bool(), &coltrane["facets"]),
        (Some(false), &json!([{"name": "Records", "count": 3}])),
        "the other categories still show what the search found, and no fuzzy guess"
    );
    let (_, cheap) = json_of(app.get("/api/products?max_price=30").await).await;
    assert_eq!(
        cheap["facets"],
        json!([{"name": "Books", "count": 2}, {"name": "Records", "count": 2}]),
        "the price range applies to the counts"
    );
    let (_, everything) = json_of(app.get("/api/products").await).await;
    assert_eq!(
        everything["facets"],
        json!([
            {"name": "Records", "count": 3},
            {"name": "Audio", "count": 2},
            {"name": "Books", "count": 2}
        ])
    );
    let (_, mine) = json_of(app.get_as(&seller, "/api/products/mine").await).await;
    assert!(mine.get("facets").is_none(), "{mine}");
    app.stop().await;
}

#[tokio::test]
async fn relevance_ranks_small_match_sets_and_orders_large_ones_newest_first() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    // The word in a name ranks above the same word in a description, whatever the dates.
    app.listing(
        &seller,
        json!({"name": "Walnut plinth", "description": "fits a Technics turntable"}),
    )
    .await;
    app.listing(
        &seller,
        json!({"name": "Technics turntable", "description": "as new"}),
    )
    .await;
    app.listing(
        &seller,
        json!({"name": "Dust cover", "description": "for any turntable"}),
    )
    .await;
    let (_, ranked) = json_of(app.get("/api/products?q=turntable").await).await;
    assert_eq!(ranked["sort"], "relevance");
    assert_eq!(names(&ranked)[0], "Technics turntable");

    // More matches than are ranked: newest first, walking the date index.
    sqlx::query(
        "INSERT INTO products (id, seller_id, seller_name, name, description, category, price, \
         stock, created_at) \
         SELECT gen_random_uuid(), gen_random_uuid(), 'bulk', 'Bulk turntable ' || i, '', \
                'Audio', 10, 1, now() - make_interval(days => 1, secs => i) \
         FROM generate_series(1, $1) AS i",
    )
    .bind(RANKED_MATCHES as i32)
    .execute(&app.pool)
    .await
    .unwrap();
    // (Another price range: the counts of the first search may be kept for a second.)
    let (_, large) = json_of(
        app.get("/api/products?q=turntable&max_price=1000&per_page=4")
            .await,
    )
    .await;
    assert_eq!(large["sort"], "newest", "{large}");
    assert_eq!(
        names(&large),
        [
            "Dust cover",
            "Technics turntable",
            "Walnut plinth",
            "Bulk turntable 1"
        ]
    );
    assert_eq!(large["total"], RANKED_MATCHES + 3);
    app.stop().await;
}
