//! Listings: the catalog queries and the writes, each write in one transaction with its
//! `product.*` event in the outbox.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{CatalogFilter, Category, Description, ImageUrl, Price, ProductName, Sort, Stock},
    error::ApiError,
    events::{
        PRODUCT_CREATED, PRODUCT_DELETED, PRODUCT_UPDATED,
        payloads::{ProductChanged, ProductDeleted},
        publish::publish,
    },
};

macro_rules! columns {
    () => {
        "id, seller_id, seller_name, name, description, category, price, stock, image_url, \
         version, created_at, updated_at"
    };
}

/// A listing as stored (live ones only ever leave this module).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub seller_name: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Decimal,
    pub stock: i32,
    pub image_url: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ProductRow {
    /// The `product.created` / `product.updated` payload of this row.
    pub fn changed(&self) -> ProductChanged {
        ProductChanged {
            product_id: self.id,
            seller_id: self.seller_id,
            name: self.name.clone(),
            price: self.price,
            stock: self.stock,
            version: self.version,
        }
    }
}

/// A listing to create; every field already valid.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub seller_name: String,
    pub name: ProductName,
    pub description: Description,
    pub category: Category,
    pub price: Price,
    pub stock: Stock,
    pub image_url: Option<ImageUrl>,
}

/// A partial update; `None` leaves a field as it is (`image_url: Some(None)` removes the image).
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category: Option<Category>,
    pub price: Option<Price>,
    pub stock: Option<Stock>,
    pub image_url: Option<Option<ImageUrl>>,
}

impl ProductChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.category.is_none()
            && self.price.is_none()
            && self.stock.is_none()
            && self.image_url.is_none()
    }
}

/// Who is changing a listing.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: Uuid,
    pub is_admin: bool,
}

/// Inserts a listing (`ON CONFLICT DO NOTHING` on its id) and enqueues `product.created`.
/// Returns `None` when the id already existed (the seed's idempotence relies on it).
pub async fn insert(
    connection: &mut PgConnection,
    product: &NewProduct,
    correlation_id: &str,
) -> Result<Option<ProductRow>, sqlx::Error> {
    let row: Option<ProductRow> = sqlx::query_as(concat!(
        "INSERT INTO products (id, seller_id, seller_name, name, description, category, price, \
         stock, image_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO NOTHING RETURNING ",
        columns!()
    ))
    .bind(product.id)
    .bind(product.seller_id)
    .bind(&product.seller_name)
    .bind(product.name.as_str())
    .bind(product.description.as_str())
    .bind(product.category.as_str())
    .bind(product.price.value())
    .bind(product.stock.value())
    .bind(product.image_url.as_ref().map(ImageUrl::as_str))
    .fetch_optional(&mut *connection)
    .await?;
    if let Some(row) = &row {
        publish(connection, PRODUCT_CREATED, correlation_id, &row.changed()).await?;
    }
    Ok(row)
}

/// Creates a listing and its `product.created` event in one transaction.
pub async fn create(
    pool: &PgPool,
    product: &NewProduct,
    correlation_id: &str,
) -> Result<ProductRow, ApiError> {
    let mut transaction = pool.begin().await?;
    let row = insert(&mut transaction, product, correlation_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a fresh UUIDv7 collided with an existing product"))?;
    transaction.commit().await?;
    Ok(row)
}

/// A live listing by id.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<ProductRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Locks a live listing and checks that `actor` may change it at `expected_version`:
/// 404 unknown or deleted, 403 someone else's, 412 stale.
async fn lock_for_change(
    connection: &mut PgConnection,
    id: Uuid,
    actor: Actor,
    expected_version: Option<i64>,
) -> Result<(), ApiError> {
    let current: Option<(Uuid, i64)> = sqlx::query_as(
        "SELECT seller_id, version FROM products WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    let (seller_id, version) = current.ok_or(ApiError::NotFound)?;
    if seller_id != actor.user_id && !actor.is_admin {
        return Err(ApiError::Forbidden);
    }
    if expected_version.is_some_and(|expected| expected != version) {
        return Err(ApiError::VersionConflict { current: version });
    }
    Ok(())
}

/// Applies `changes` (owner or admin, optionally only at `expected_version`) and enqueues
/// `product.updated`, in one transaction. On any refusal nothing changes.
pub async fn update(
    pool: &PgPool,
    id: Uuid,
    actor: Actor,
    expected_version: Option<i64>,
    changes: &ProductChanges,
    correlation_id: &str,
) -> Result<ProductRow, ApiError> {
    let mut transaction = pool.begin().await?;
    lock_for_change(&mut transaction, id, actor, expected_version).await?;
    let row: ProductRow = sqlx::query_as(concat!(
        "UPDATE products SET name = COALESCE($2, name), description = COALESCE($3, description), \
         category = COALESCE($4, category), price = COALESCE($5, price), \
         stock = COALESCE($6, stock), \
         image_url = CASE WHEN $7 THEN $8 ELSE image_url END, \
         version = version + 1, updated_at = now() \
         WHERE id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(changes.name.as_ref().map(ProductName::as_str))
    .bind(changes.description.as_ref().map(Description::as_str))
    .bind(changes.category.as_ref().map(Category::as_str))
    .bind(changes.price.map(Price::value))
    .bind(changes.stock.map(Stock::value))
    .bind(changes.image_url.is_some())
    .bind(
        changes
            .image_url
            .as_ref()
            .and_then(|url| url.as_ref().map(ImageUrl::as_str)),
    )
    .fetch_one(&mut *transaction)
    .await?;
    publish(
        &mut transaction,
        PRODUCT_UPDATED,
        correlation_id,
        &row.changed(),
    )
    .await?;
    transaction.commit().await?;
    Ok(row)
}

/// Soft-deletes a listing (owner or admin) and enqueues `product.deleted`, in one transaction.
/// The row stays, so late order events still find it; the catalog no longer shows it.
pub async fn delete(
    pool: &PgPool,
    id: Uuid,
    actor: Actor,
    expected_version: Option<i64>,
    correlation_id: &str,
) -> Result<(), ApiError> {
    let mut transaction = pool.begin().await?;
    lock_for_change(&mut transaction, id, actor, expected_version).await?;
    let version: i64 = sqlx::query_scalar(
        "UPDATE products SET deleted_at = now(), updated_at = now(), version = version + 1 \
         WHERE id = $1 RETURNING version",
    )
    .bind(id)
    .fetch_one(&mut *transaction)
    .await?;
    publish(
        &mut transaction,
        PRODUCT_DELETED,
        correlation_id,
        &ProductDeleted {
            product_id: id,
            version,
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(())
}

/// One category and how many live listings it has.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CategoryCount {
    pub name: String,
    pub count: i64,
}

/// Categories of live listings, largest first.
pub async fn categories(pool: &PgPool) -> Result<Vec<CategoryCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category AS name, count(*) AS count FROM products WHERE deleted_at IS NULL \
         GROUP BY category ORDER BY count DESC, category",
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug)]
enum Arg {
    Text(String),
    Money(Decimal),
    Id(Uuid),
}

/// The WHERE and ORDER BY of a catalog query, built from fixed fragments only (every value is a
/// bind parameter), so each combination is its own prepared statement with a plan that uses
/// the matching index: the GIN indexes for text, the b-trees for sorting.
struct CatalogSql {
    conditions: Vec<String>,
    order: String,
    args: Vec<Arg>,
}

impl CatalogSql {
    fn new(filter: &CatalogFilter) -> Self {
        let mut sql = Self {
            conditions: vec!["deleted_at IS NULL".to_owned()],
            order: String::new(),
            args: Vec::new(),
        };
        let mut tsquery_param = None;
        if filter.text.is_some() {
            let words = filter.prefix_tsquery().map(|tsquery| {
                let n = sql.arg(Arg::Text(tsquery));
                tsquery_param = Some(n);
                format!("search @@ to_tsquery('english', ${n})")
            });
            let substring = filter.substring_pattern().map(|pattern| {
                let n = sql.arg(Arg::Text(pattern));
                format!("name ILIKE ${n}")
            });
            sql.conditions.push(match (words, substring) {
                (Some(words), Some(substring)) => format!("({words} OR {substring})"),
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => "false".to_owned(),
            });
        }
        if let Some(category) = &filter.category {
            let n = sql.arg(Arg::Text(category.clone()));
            sql.conditions.push(format!("category = ${n}"));
        }
        if let Some(min) = filter.min_price {
            let n = sql.arg(Arg::Money(min.value()));
            sql.conditions.push(format!("price >= ${n}"));
        }
        if let Some(max) = filter.max_price {
            let n = sql.arg(Arg::Money(max.value()));
            sql.conditions.push(format!("price <= ${n}"));
        }
        if let Some(seller_id) = filter.seller_id {
            let n = sql.arg(Arg::Id(seller_id));
            sql.conditions.push(format!("seller_id = ${n}"));
        }
        sql.order = match (filter.sort, tsquery_param) {
            (Sort::Relevance, Some(n)) => format!(
                "ts_rank(search, to_tsquery('english', ${n})) DESC, created_at DESC, id DESC"
            ),
            (Sort::Relevance | Sort::Newest, _) => "created_at DESC, id DESC".to_owned(),
            (Sort::PriceAsc, _) => "price ASC, id ASC".to_owned(),
            (Sort::PriceDesc, _) => "price DESC, id DESC".to_owned(),
            (Sort::Name, _) => "name ASC, id ASC".to_owned(),
        };
        sql
    }

    fn arg(&mut self, arg: Arg) -> usize {
        self.args.push(arg);
        self.args.len()
    }

    fn page_sql(&self) -> String {
        let n = self.args.len();
        format!(
            "SELECT {} FROM products WHERE {} ORDER BY {} LIMIT ${} OFFSET ${}",
            columns!(),
            self.conditions.join(" AND "),
            self.order,
            n + 1,
            n + 2
        )
    }

    fn count_sql(&self) -> String {
        format!(
            "SELECT count(*) FROM products WHERE {}",
            self.conditions.join(" AND ")
        )
    }
}

macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Money(money) => query.bind(*money),
                Arg::Id(id) => query.bind(*id),
            };
        }
        query
    }};
}

/// How long a catalog count is reused: the items of a page are always fresh, its `total` may lag
/// this long behind listings created or deleted meanwhile.
const COUNT_TTL: Duration = Duration::from_secs(2);
/// Distinct catalog queries whose counts are kept at once.
const COUNT_CACHE_ENTRIES: usize = 1024;

/// Counts of public catalog queries, kept for [`COUNT_TTL`]: an exact `count(*)` reads every
/// matching row (tens of milliseconds over 100,000 listings), so a busy catalog counts each
/// query at most once per TTL instead of once per request. Cheap to clone.
#[derive(Clone, Default)]
pub struct CountCache {
    counts: Arc<Mutex<HashMap<String, (Instant, i64)>>>,
}

impl CountCache {
    fn get(&self, key: &str) -> Option<i64> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .get(key)
            .filter(|(counted_at, _)| counted_at.elapsed() < COUNT_TTL)
            .map(|&(_, count)| count)
    }

    fn put(&self, key: String, count: i64) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.len() >= COUNT_CACHE_ENTRIES {
            counts.retain(|_, (counted_at, _)| counted_at.elapsed() < COUNT_TTL);
            if counts.len() >= COUNT_CACHE_ENTRIES {
                counts.clear();
            }
        }
        counts.insert(key, (Instant::now(), count));
    }
}

/// One page of the catalog and the number of matching listings.
///
/// A short page is the last one, so its total is known without counting; otherwise the count
/// comes from `counts` when given and fresh (the public catalog), or from `count(*)` (a seller's
/// own listings, which must show a new listing at once).
pub async fn list(
    pool: &PgPool,
    filter: &CatalogFilter,
    counts: Option<&CountCache>,
) -> Result<(Vec<ProductRow>, i64), sqlx::Error> {
    let sql = CatalogSql::new(filter);
    // Only fixed fragments are concatenated; every value is bound.
    let items = bind_args!(
        sqlx::query_as::<_, ProductRow>(AssertSqlSafe(sql.page_sql())),
        &sql.args
    )
    .bind(filter.page.limit())
    .bind(filter.page.offset())
    .fetch_all(pool)
    .await?;

    let offset = filter.page.offset();
    let fetched = i64::try_from(items.len()).unwrap_or(i64::MAX);
    // An empty page past the end says nothing about how many there are.
    if fetched < filter.page.limit() && (fetched > 0 || offset == 0) {
        return Ok((items, offset + fetched));
    }
    let key = format!("{}|{:?}", sql.count_sql(), sql.args);
    if let Some(total) = counts.and_then(|counts| counts.get(&key)) {
        return Ok((items, total));
    }
    let total = bind_args!(
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.count_sql())),
        &sql.args
    )
    .fetch_one(pool)
    .await?;
    if let Some(counts) = counts {
        counts.put(key, total);
    }
    Ok((items, total))
}

/// The plan PostgreSQL picks for a catalog page (`EXPLAIN`), to check that searches and sorts
/// use the indexes rather than a sequential scan.
pub async fn explain_page(
    connection: &mut PgConnection,
    filter: &CatalogFilter,
) -> Result<String, sqlx::Error> {
    let sql = CatalogSql::new(filter);
    let lines: Vec<String> = bind_args!(
        sqlx::query_scalar::<_, String>(AssertSqlSafe(format!("EXPLAIN {}", sql.page_sql()))),
        &sql.args
    )
    .bind(filter.page.limit())
    .bind(filter.page.offset())
    .fetch_all(connection)
    .await?;
    Ok(lines.join("\n"))
}
