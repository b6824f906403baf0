//! Plan shapes of the catalog's queries on a catalog big enough for the planner to care: pages
//! read one page of an index (no sort of all matches, no OFFSET), page starts are an index-only
//! scan, text searches that read every match go through the GIN indexes.

use products_service::db::catalog::{self, Access, Explained, Matching, Order, Scope, Start};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::helpers::spawn_app;

fn scope(matching: Matching, category: Option<&str>) -> Scope {
    Scope {
        matching,
        category: category.map(str::to_owned),
        min_price: None,
        max_price: None,
        seller_id: None,
    }
}

#[tokio::test]
async fn catalog_queries_read_one_page_of_an_index_and_text_searches_use_the_gin_indexes() {
    let app = spawn_app().await;
    // Six thousand listings, a word in a fifth of them and another in one in five hundred.
    sqlx::query(
        "INSERT INTO products (id, seller_id, seller_name, name, description, category, price, \
         stock, created_at) \
         SELECT gen_random_uuid(), gen_random_uuid(), 'bulk', \
                'Item ' || i || CASE WHEN i % 5 = 0 THEN ' turntable' ELSE ' w' || (i % 997) END, \
                CASE WHEN i % 500 = 0 THEN 'autographed' ELSE 'about y' || (i % 101) END, \
                'Category ' || (i % 7), 1 + (i % 500), i % 20, now() - make_interval(secs => i) \
         FROM generate_series(1, 6000) AS i",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE products")
        .execute(&app.pool)
        .await
        .unwrap();
    let deep: Uuid = sqlx::query_scalar(
        "SELECT id FROM products WHERE category = 'Category 3' ORDER BY created_at DESC, id DESC \
         OFFSET 500 LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let explain = |access, scope: Scope, query| {
        let pool = app.pool.clone();
        async move {
            catalog::explain(&pool, access, &scope, query, false)
                .await
                .unwrap()
        }
    };
    let page = |order, start| Explained::Page {
        order,
        start,
        limit: 21,
    };
    let no_sort_no_offset = |plan: &str| {
        assert!(!plan.contains("Sort"), "a sort: {plan}");
        assert!(!plan.contains("Seq Scan"), "a sequential scan: {plan}");
        assert!(!plan.to_lowercase().contains("offset"), "an offset: {plan}");
    };

    let first = explain(
        Access::Planner,
        scope(Matching::All, None),
        page(Order::Newest, Start::Top),
    )
    .await;
    assert!(first.contains("products_newest"), "{first}");
    no_sort_no_offset(&first);

    let category = Some("Category 3");
    let deep_page = explain(
        Access::Planner,
        scope(Matching::All, category),
        page(Order::Newest, Start::At(deep.into())),
    )
    .await;
    assert!(
        deep_page.contains("Index Cond: (ROW(created_at, id) <="),
        "{deep_page}"
    );
    no_sort_no_offset(&deep_page);

    let starts = explain(
        Access::Planner,
        scope(Matching::All, category),
        Explained::PageStarts {
            order: Order::Newest,
            per_page: 20,
        },
    )
    .await;
    assert!(
        starts.contains("Index Only Scan using products_by_category"),
        "{starts}"
    );
    no_sort_no_offset(&starts);

    let mut filtered = scope(Matching::All, category);
    filtered.min_price = Some(Decimal::from(100));
    filtered.max_price = Some(Decimal::from(300));
    let sorted = explain(
        Access::Planner,
        filtered,
        page(Order::PriceAsc, Start::After(deep.into())),
    )
    .await;
    assert!(sorted.contains("products_by_category_price"), "{sorted}");
    assert!(sorted.contains("ROW(price, id) >"), "{sorted}");
    no_sort_no_offset(&sorted);

    // A common word, newest first: walk the date index and stop after a page.
    let common = Matching::Words("turntable:*".to_owned());
    let walk = explain(
        Access::Planner,
        scope(common.clone(), None),
        page(Order::Newest, Start::Top),
    )
    .await;
    assert!(walk.contains("products_newest"), "{walk}");
    no_sort_no_offset(&walk);
    // Reading every match (counts, a ranked small set) goes through the GIN index.
    let rare = Matching::Words("autograph:*".to_owned());
    for (matching, query) in [
        (common.clone(), Explained::CategoryCounts),
        (rare.clone(), page(Order::Rank, Start::Top)),
        (
            rare,
            Explained::PageStarts {
                order: Order::Rank,
                per_page: 20,
            },
        ),
    ] {
        let plan = explain(Access::Bitmap, scope(matching, None), query).await;
        assert!(
            plan.contains("Bitmap Index Scan on products_search"),
            "{plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
    let similar = Matching::Similar {
        text: "turntabel".to_owned(),
        pattern: "%turntabel%".to_owned(),
    };
    for query in [
        Explained::CategoryCounts,
        page(Order::Similarity, Start::Top),
    ] {
        let plan = explain(Access::Bitmap, scope(similar.clone(), None), query).await;
        assert!(
            plan.contains("Bitmap Index Scan on products_name_trgm"),
            "{plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
    app.stop().await;
}

/// The catalog's queries for each request of the benchmark's catalog stage (bench/run), on a
/// catalog built by bench/lib/big_catalog.sql; `CATALOG_LISTINGS` sets its size (100,000).
/// `cargo test -p products-service --test api explain_the_benchmark -- --ignored --nocapture`.
/// Timings from a busy machine are noise; the plan shapes are the point.
#[tokio::test]
#[ignore = "prints EXPLAIN (ANALYZE, BUFFERS) of every benchmark request on a large catalog"]
async fn explain_the_benchmark_requests_on_a_large_catalog() {
    let app = spawn_app().await;
    let listings = std::env::var("CATALOG_LISTINGS").unwrap_or_else(|_| "100000".to_owned());
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bench/lib/big_catalog.sql"
    ))
    .unwrap();
    let script: String = script
        .lines()
        .filter(|line| !line.starts_with('\\') && !line.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(":n", &listings);
    for statement in script.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let deep: Uuid = sqlx::query_scalar(
        "SELECT id FROM products WHERE deleted_at IS NULL AND category = 'Audio' \
         ORDER BY created_at DESC, id DESC OFFSET 9980 LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let words = |tsquery: &str| Matching::Words(tsquery.to_owned());
    let audio = Some("Audio");
    let mut filtered = scope(Matching::All, audio);
    filtered.min_price = Some(Decimal::from(100));
    filtered.max_price = Some(Decimal::from(500));
    let similar = Matching::Similar {
        text: "turntabel".to_owned(),
        pattern: "%turntabel%".to_owned(),
    };
    let page = |order, start| Explained::Page {
        order,
        start,
        limit: 21,
    };
    // (request, what the service runs for it: access, scope, query), as browse_catalog decides.
    // The whole catalog's category counts (first page, category pages, page 500) are not here:
    // they are the seven rows of category_counts, kept by triggers.
    let runs = [
        (
            "first page",
            Access::Planner,
            scope(Matching::All, None),
            page(Order::Newest, Start::Top),
        ),
        (
            "category=Audio",
            Access::Planner,
            scope(Matching::All, audio),
            page(Order::Newest, Start::Top),
        ),
        (
            "q=smoke: counts (cached 1 s)",
            Access::Bitmap,
            scope(words("smoke:*"), None),
            Explained::CategoryCounts,
        ),
        (
            "q=smoke: > 1,000 matches, newest first",
            Access::Planner,
            scope(words("smoke:*"), None),
            page(Order::Newest, Start::Top),
        ),
        (
            "q=autographed: counts (cached 1 s)",
            Access::Bitmap,
            scope(words("autographed:*"), None),
            Explained::CategoryCounts,
        ),
        (
            "q=autographed: ranked",
            Access::Bitmap,
            scope(words("autographed:*"), None),
            page(Order::Rank, Start::Top),
        ),
        (
            "filtered and sorted: counts (cached 1 s)",
            Access::Planner,
            filtered.clone(),
            Explained::CategoryCounts,
        ),
        (
            "category=Audio&min_price=100&max_price=500&sort=price_asc",
            Access::Planner,
            filtered,
            page(Order::PriceAsc, Start::Top),
        ),
        (
            "category=Audio&page=500: page starts (cached 5 s)",
            Access::Planner,
            scope(Matching::All, audio),
            Explained::PageStarts {
                order: Order::Newest,
                per_page: 20,
            },
        ),
        (
            "category=Audio&page=500",
            Access::Planner,
            scope(Matching::All, audio),
            page(Order::Newest, Start::At(deep.into())),
        ),
        (
            "q=turntabel: counts of the fallback (cached 1 s)",
            Access::Bitmap,
            scope(similar.clone(), None),
            Explained::CategoryCounts,
        ),
        (
            "q=turntabel: > 1,000 similar names, newest first",
            Access::Planner,
            scope(similar, None),
            page(Order::Newest, Start::Top),
        ),
    ];
    for (request, access, scope, query) in runs {
        let plan = catalog::explain(&app.pool, access, &scope, query, true)
            .await
            .unwrap();
        println!("== {request} ({access:?})\n{plan}\n");
    }
    app.stop().await;
}
