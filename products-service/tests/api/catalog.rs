//! The public catalog: pages, search, filters, sorting, categories and bad query values.

use serde_json::{Value, json};

use web_kit::testing::wait_until;

use crate::helpers::{TestApp, TestUser, json_of, spawn_app};

pub const STOCKED: &[(&str, &str, &str, &str)] = &[
    (
        "Blue Train (LP)",
        "John Coltrane on Blue Note, 1957",
        "Records",
        "24.99",
    ),
    (
        "A Love Supreme",
        "John Coltrane quartet, Impulse! 1965",
        "Records",
        "29.00",
    ),
    (
        "Kind of Blue",
        "Miles Davis with Coltrane and Evans",
        "Records",
        "31.50",
    ),
    ("Dune", "Frank Herbert, paperback", "Books", "9.99"),
    (
        "The Left Hand of Darkness",
        "Ursula K. Le Guin",
        "Books",
        "12.00",
    ),
    (
        "Technics SL-1200MK2",
        "Direct-drive turntable",
        "Audio",
        "650.00",
    ),
    (
        "Sennheiser HD 600",
        "Open-back headphones",
        "Audio",
        "299.00",
    ),
];

pub async fn stock_catalog(app: &TestApp, seller: &TestUser) -> Vec<Value> {
    let mut created = Vec::new();
    for (name, description, category, price) in STOCKED {
        created.push(
            app.listing(
                seller,
                json!({"name": name, "description": description, "category": category, "price": price}),
            )
            .await,
        );
    }
    created
}

pub fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_catalog_total_is_exact_at_once_and_a_search_total_within_seconds() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    for n in 0..3 {
        app.listing(&seller, json!({"name": format!("Listing {n}")}))
            .await;
    }
    let total = |path: &'static str| {
        let app = &app;
        async move { json_of(app.get(path).await).await.1["total"].clone() }
    };
    assert_eq!(total("/api/products?per_page=2").await, 3);
    assert_eq!(total("/api/products?q=listing&per_page=2").await, 3);

    let added = app.listing(&seller, json!({"name": "Listing 3"})).await;
    let (_, page) = json_of(app.get("/api/products?per_page=2").await).await;
    assert_eq!(
        (names(&page)[0].as_str(), page["total"].as_i64()),
        ("Listing 3", Some(4)),
        "the items and the whole catalog's total are fresh"
    );
    let (_, mine) = json_of(app.get_as(&seller, "/api/products/mine?per_page=2").await).await;
    assert_eq!(mine["total"], 4);
    // A search's counts may be kept a moment.
    wait_until(
        std::time::Duration::from_secs(10),
        "the search total to count the new listing",
        || async { (total("/api/products?q=listing&per_page=2").await == 4).then_some(()) },
    )
    .await;

    let moved = app
        .patch_product(
            Some(&seller),
            added["id"].as_str().unwrap(),
            None,
            &json!({"category": "Books"}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    let (_, page) = json_of(app.get("/api/products?category=Books").await).await;
    assert_eq!(page["total"], 1);
    assert_eq!(
        page["facets"],
        json!([{"name": "Records", "count": 3}, {"name": "Books", "count": 1}])
    );
    app.delete_product(Some(&seller), added["id"].as_str().unwrap())
        .await;
    assert_eq!(total("/api/products").await, 3);
    assert_eq!(total("/api/products?category=Books").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn pages_cover_every_listing_once_newest_first_with_the_total() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    for n in 0..25 {
        app.listing(&seller, json!({"name": format!("Listing {n:02}")}))
            .await;
    }

    let mut seen = Vec::new();
    for page in 1..=3 {
        let (status, body) = json_of(
            app.get(&format!("/api/products?page={page}&per_page=10"))
                .await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            (body["page"].as_u64(), body["per_page"].as_u64()),
            (Some(page), Some(10))
        );
        assert_eq!(body["total"], 25);
        seen.extend(names(&body));
    }
    let expected: Vec<String> = (0..25).rev().map(|n| format!("Listing {n:02}")).collect();
    assert_eq!(seen, expected);

    let (_, default) = json_of(app.get("/api/products").await).await;
    assert_eq!(
        (default["per_page"].as_u64(), names(&default).len()),
        (Some(20), 20)
    );
    let (_, beyond) = json_of(app.get("/api/products?page=9").await).await;
    assert_eq!(
        (beyond["total"].as_u64(), names(&beyond).len()),
        (Some(25), 0)
    );
    app.stop().await;
}

#[tokio::test]
async fn search_matches_words_prefixes_and_substrings_of_names_and_descriptions() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    stock_catalog(&app, &seller).await;

    let (status, body) = json_of(app.get("/api/products?q=coltrane").await).await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 3, "{body}");
    let (_, body) = json_of(app.get("/api/products?q=blue").await).await;
    assert_eq!(
        names(&body),
        ["Blue Train (LP)", "Kind of Blue"],
        "best match first"
    );

    let (_, body) = json_of(app.get("/api/products?q=coltr").await).await;
    assert_eq!(body["total"], 3, "a prefix matches: {body}");
    let (_, body) = json_of(app.get("/api/products?q=blue%20train").await).await;
    assert_eq!(names(&body), ["Blue Train (LP)"]);
    let (_, body) = json_of(app.get("/api/products?q=nnheis").await).await;
    assert_eq!(
        (names(&body), body["fuzzy"].as_bool()),
        (vec!["Sennheiser HD 600".to_owned()], Some(true)),
        "a substring of a name matches when no word does"
    );
    let (_, body) = json_of(app.get("/api/products?q=headphones").await).await;
    assert_eq!(
        names(&body),
        ["Sennheiser HD 600"],
        "descriptions are searched"
    );
    let (_, body) = json_of(app.get("/api/products?q=xylophone").await).await;
    assert_eq!(body["total"], 0);
    let (status, body) = json_of(app.get("/api/products?q=%27%26%7C!(").await).await;
    assert_eq!(
        (status, body["total"].as_i64()),
        (200, Some(0)),
        "tsquery syntax is inert"
    );
    app.stop().await;
}

#[tokio::test]
async fn category_and_price_filters_and_sorts_combine() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    stock_catalog(&app, &seller).await;

    let (_, body) = json_of(
        app.get("/api/products?category=Records&sort=price_asc")
            .await,
    )
    .await;
    assert_eq!(
        names(&body),
        ["Blue Train (LP)", "A Love Supreme", "Kind of Blue"]
    );
    let (_, body) = json_of(
        app.get("/api/products?category=Records&sort=price_desc")
            .await,
    )
    .await;
    assert_eq!(
        names(&body),
        ["Kind of Blue", "A Love Supreme", "Blue Train (LP)"]
    );
    let (_, body) = json_of(app.get("/api/products?category=Books&sort=name").await).await;
    assert_eq!(names(&body), ["Dune", "The Left Hand of Darkness"]);
    let (_, body) = json_of(
        app.get("/api/products?min_price=10&max_price=30&sort=price_asc")
            .await,
    )
    .await;
    assert_eq!(
        names(&body),
        [
            "The Left Hand of Darkness",
            "Blue Train (LP)",
            "A Love Supreme"
        ]
    );
    let (_, body) = json_of(app.get("/api/products?q=coltrane&max_price=25").await).await;
    assert_eq!(names(&body), ["Blue Train (LP)"]);
    let (_, body) = json_of(app.get("/api/products?category=Nothing").await).await;
    assert_eq!(body["total"], 0);
    app.stop().await;
}

#[tokio::test]
async fn bad_query_values_are_422s_naming_each_parameter() {
    let app = spawn_app().await;

    for (query, field) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=1.5", "per_page"),
        ("sort=cheapest", "sort"),
        ("min_price=abc", "min_price"),
        ("max_price=-5", "max_price"),
        ("min_price=10&max_price=5", "max_price"),
        ("page=10001", "page"),
        ("page=99999999999999999999", "page"),
        ("after=not-an-id", "after"),
        ("before=42", "before"),
        (
            "after=0193a1d0-5eed-7000-8000-000000000001&before=0193a1d0-5eed-7000-8000-000000000001",
            "before",
        ),
        ("after=0193a1d0-5eed-7000-8000-00000000dead", "after"),
        ("before=0193a1d0-5eed-7000-8000-00000000dead", "before"),
    ] {
        let (status, body) = json_of(app.get(&format!("/api/products?{query}")).await).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert!(body["error"]["fields"][field].is_array(), "{query}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn sold_out_listings_stay_listed_with_stock_zero_and_categories_count_live_listings() {
    let app = spawn_app().await;
    let seller = app.user("seller");
    let created = stock_catalog(&app, &seller).await;
    let sold_out = app
        .listing(
            &seller,
            json!({"name": "Sold out single", "category": "Records", "stock": 0}),
        )
        .await;
    let dune = created.iter().find(|p| p["name"] == "Dune").unwrap();
    app.delete_product(Some(&seller), dune["id"].as_str().unwrap())
        .await;

    let (_, body) = json_of(app.get("/api/products?q=single").await).await;
    assert_eq!(body["items"][0]["id"], sold_out["id"]);
    assert_eq!(body["items"][0]["stock"], 0);
    let (status, categories) = json_of(app.get("/api/products/categories").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        categories,
        json!([
            {"name": "Records", "count": 4},
            {"name": "Audio", "count": 2},
            {"name": "Books", "count": 1}
        ])
    );
    app.stop().await;
}
