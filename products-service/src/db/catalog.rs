//! The catalog's read queries: pages that start at a listing's sort key (keyset pagination, never
//! an OFFSET), the first listing of every page, category counts and plain counts.
//!
//! Each query is built from fixed fragments; every value is a bind parameter, so each shape is
//! its own prepared statement. A page starts at a listing by id: the listing's own sort key is
//! read by a scalar subquery (an InitPlan, evaluated once), so the row comparison against it is
//! an index condition of the sort's b-tree and a page reads only its own rows, however deep.

use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, Transaction, pool::PoolConnection};
use uuid::Uuid;

use super::products::{CategoryCount, ProductRow};
use crate::domain::{ProductId, UserId};

/// Which listings a query covers, by their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matching {
    /// Every live listing.
    All,
    /// Full text: a prefix `tsquery` (`blue:* & train:*`) over names and descriptions.
    Words(String),
    /// Typo-tolerant: names with a word similar to the text (pg_trgm word similarity), or
    /// containing the text. `pattern` is the text as an escaped `ILIKE` pattern.
    Similar { text: String, pattern: String },
}

/// The listings a query covers.
#[derive(Debug, Clone)]
pub struct Scope {
    pub matching: Matching,
    pub category: Option<String>,
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
    pub seller_id: Option<UserId>,
}

impl Scope {
    /// Every live listing, whatever the category: its category counts are
    /// [`super::products::categories`].
    pub fn is_whole_catalog(&self) -> bool {
        self.matching == Matching::All
            && self.min_price.is_none()
            && self.max_price.is_none()
            && self.seller_id.is_none()
    }
}

/// The order of a page. Every order ends with the listing id, so it is total and a listing's key
/// says exactly where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Newest,
    PriceAsc,
    PriceDesc,
    Name,
    /// `ts_rank` of a [`Matching::Words`] search, then newest.
    Rank,
    /// Word similarity of a [`Matching::Similar`] search, then newest.
    Similarity,
}

impl Order {
    fn descending(self) -> bool {
        !matches!(self, Self::PriceAsc | Self::Name)
    }
}

/// How PostgreSQL may reach the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The planner's choice: a browse, or a page of a large text match, walks the sort's b-tree
    /// and stops after one page.
    Planner,
    /// Bitmap scans only (the GIN indexes): for reading every match of a text search. The
    /// planner estimates prefix and similarity matches coarsely (and a similarity test costs
    /// far more than it assumes), and would otherwise walk a whole b-tree or the table testing
    /// each row.
    Bitmap,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the first listing of the order.
    Top,
    /// At this listing (included): a page start found by [`page_starts`].
    At(ProductId),
    /// Just after this listing.
    After(ProductId),
    /// Just before this listing: the rows come back nearest first (reverse order).
    Before(ProductId),
}

#[derive(Debug)]
enum Arg {
    Text(String),
    Money(Decimal),
    Id(Uuid),
    Int(i64),
}

/// The WHERE clause of a scope and its parameters; more parameters are appended as a query
/// needs them.
struct Sql {
    conditions: Vec<String>,
    args: Vec<Arg>,
    /// The parameter holding the search text (the tsquery or the similarity text).
    text: Option<usize>,
}

impl Sql {
    /// The scope's conditions; without its category when `by_category` is false (the category
    /// counts of a search cover every category).
    fn new(scope: &Scope, by_category: bool) -> Self {
        let mut sql = Self {
            conditions: vec!["deleted_at IS NULL".to_owned()],
            args: Vec::new(),
            text: None,
        };
        match &scope.matching {
            Matching::All => {}
            Matching::Words(tsquery) => {
                let n = sql.arg(Arg::Text(tsquery.clone()));
                sql.text = Some(n);
                sql.conditions
                    .push(format!("search @@ to_tsquery('english', ${n})"));
            }
            Matching::Similar { text, pattern } => {
                let n = sql.arg(Arg::Text(text.clone()));
                let p = sql.arg(Arg::Text(pattern.clone()));
                sql.text = Some(n);
                sql.conditions
                    .push(format!("(${n} <% name OR name ILIKE ${p})"));
            }
        }
        if let Some(category) = scope.category.as_ref().filter(|_| by_category) {
            let n = sql.arg(Arg::Text(category.clone()));
            sql.conditions.push(format!("category = ${n}"));
        }
        if let Some(min) = scope.min_price {
            let n = sql.arg(Arg::Money(min));
            sql.conditions.push(format!("price >= ${n}"));
        }
        if let Some(max) = scope.max_price {
            let n = sql.arg(Arg::Money(max));
            sql.conditions.push(format!("price <= ${n}"));
        }
        if let Some(seller_id) = scope.seller_id {
            let n = sql.arg(Arg::Id(seller_id.as_uuid()));
            sql.conditions.push(format!("seller_id = ${n}"));
        }
        sql
    }

    fn arg(&mut self, arg: Arg) -> usize {
        self.args.push(arg);
        self.args.len()
    }

    fn where_clause(&self) -> String {
        self.conditions.join(" AND ")
    }

    /// The sort key's expressions, the listing id last. A ranked order without a search text
    /// (never built by the catalog) falls back to newest.
    fn key(&self, order: Order) -> Vec<String> {
        let mut key: Vec<String> = match (order, self.text) {
            (Order::Rank, Some(n)) => vec![
                format!("ts_rank(search, to_tsquery('english', ${n}))"),
                "created_at".to_owned(),
            ],
            (Order::Similarity, Some(n)) => {
                vec![
                    format!("word_similarity(${n}, name)"),
                    "created_at".to_owned(),
                ]
            }
            (Order::PriceAsc | Order::PriceDesc, _) => vec!["price".to_owned()],
            (Order::Name, _) => vec!["name".to_owned()],
            (Order::Newest | Order::Rank | Order::Similarity, _) => vec!["created_at".to_owned()],
        };
        key.push("id".to_owned());
        key
    }

    fn order_by(&self, order: Order, reverse: bool) -> String {
        let direction = if order.descending() != reverse {
            "DESC"
        } else {
            "ASC"
        };
        self.key(order)
            .iter()
            .map(|column| format!("{column} {direction}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `(key) op (key of listing $n)`: the listing's key columns come from scalar subqueries, so
    /// PostgreSQL evaluates them once and compares the index against constants.
    fn bound(&mut self, order: Order, start: Start) -> Option<String> {
        let descending = order.descending();
        let (id, op) = match start {
            Start::Top => return None,
            Start::At(id) => (id, if descending { "<=" } else { ">=" }),
            Start::After(id) => (id, if descending { "<" } else { ">" }),
            Start::Before(id) => (id, if descending { ">" } else { "<" }),
        };
        let n = self.arg(Arg::Id(id.as_uuid()));
        let key = self.key(order);
        let own: Vec<String> = key
            .iter()
            .map(|column| {
                if column == "id" {
                    format!("${n}")
                } else {
                    format!("(SELECT {column} FROM products WHERE id = ${n})")
                }
            })
            .collect();
        Some(format!("({}) {op} ({})", key.join(", "), own.join(", ")))
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
                Arg::Int(number) => query.bind(*number),
            };
        }
        query
    }};
}

/// A connection for one query: pooled as it is, or (for [`Access::Bitmap`]) inside a read-only
/// transaction with plain index scans and sequential scans switched off, so the GIN indexes'
/// bitmap scans remain (a sequential scan would test every row's text).
enum Reader {
    Pooled(PoolConnection<Postgres>),
    Bitmap(Transaction<'static, Postgres>),
}

impl Reader {
    async fn open(pool: &PgPool, access: Access) -> Result<Self, sqlx::Error> {
        Ok(match access {
            Access::Planner => Self::Pooled(pool.acquire().await?),
            Access::Bitmap => Self::Bitmap(
                web_kit::db::begin_with(
                    pool,
                    "BEGIN READ ONLY; SET LOCAL enable_indexscan = off; \
                     SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_seqscan = off",
                )
                .await?,
            ),
        })
    }

    fn connection(&mut self) -> &mut PgConnection {
        match self {
            Self::Pooled(connection) => connection,
            Self::Bitmap(transaction) => transaction,
        }
    }

    async fn close(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Pooled(_) => Ok(()),
            Self::Bitmap(transaction) => transaction.commit().await,
        }
    }
}

/// One query's text and parameters.
struct Statement {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn finish(self, text: String) -> Statement {
        Statement {
            text,
            args: self.args,
        }
    }
}

fn page_statement(scope: &Scope, order: Order, start: Start, limit: i64) -> Statement {
    let mut sql = Sql::new(scope, true);
    if let Some(bound) = sql.bound(order, start) {
        sql.conditions.push(bound);
    }
    let order_by = sql.order_by(order, matches!(start, Start::Before(_)));
    let n = sql.arg(Arg::Int(limit));
    let text = format!(
        "SELECT {} FROM products WHERE {} ORDER BY {order_by} LIMIT ${n}",
        columns!(),
        sql.where_clause()
    );
    sql.finish(text)
}

fn page_starts_statement(scope: &Scope, order: Order, per_page: u32, pages: u32) -> Statement {
    let mut sql = Sql::new(scope, true);
    let order_by = sql.order_by(order, false);
    let every = sql.arg(Arg::Int(i64::from(per_page)));
    let rows = sql.arg(Arg::Int(i64::from(per_page) * i64::from(pages)));
    // The ids come back with their position and are put in order by the caller: no sort here.
    let text = format!(
        "SELECT id, n FROM (SELECT id, row_number() OVER (ORDER BY {order_by}) AS n \
         FROM products WHERE {}) AS ordered WHERE (n - 1) % ${every} = 0 AND n <= ${rows}",
        sql.where_clause()
    );
    sql.finish(text)
}

fn category_counts_statement(scope: &Scope) -> Statement {
    let sql = Sql::new(scope, false);
    let text = format!(
        "SELECT category AS name, count(*) AS count FROM products WHERE {} \
         GROUP BY category ORDER BY count DESC, category",
        sql.where_clause()
    );
    sql.finish(text)
}

/// Up to `limit` listings of `scope` in `order` from `start` (for [`Start::Before`], nearest
/// first).
#[tracing::instrument(skip_all, fields(seller_id = scope.seller_id.map(tracing::field::display)))]
pub async fn page(
    pool: &PgPool,
    access: Access,
    scope: &Scope,
    order: Order,
    start: Start,
    limit: i64,
) -> Result<Vec<ProductRow>, sqlx::Error> {
    let statement = page_statement(scope, order, start, limit);
    let mut reader = Reader::open(pool, access).await?;
    let rows = bind_args!(
        sqlx::query_as::<_, ProductRow>(AssertSqlSafe(statement.text)),
        &statement.args
    )
    .fetch_all(reader.connection())
    .await?;
    reader.close().await?;
    Ok(rows)
}

/// The first listing of each page of `per_page` (at most `pages` of them): one scan of the
/// sort's index (index-only for a browse) that lets any later page start at its key.
#[tracing::instrument(skip_all, fields(seller_id = scope.seller_id.map(tracing::field::display)))]
pub async fn page_starts(
    pool: &PgPool,
    access: Access,
    scope: &Scope,
    order: Order,
    per_page: u32,
    pages: u32,
) -> Result<Vec<ProductId>, sqlx::Error> {
    let statement = page_starts_statement(scope, order, per_page, pages);
    let mut reader = Reader::open(pool, access).await?;
    let mut starts = bind_args!(
        sqlx::query_as::<_, (ProductId, i64)>(AssertSqlSafe(statement.text)),
        &statement.args
    )
    .fetch_all(reader.connection())
    .await?;
    reader.close().await?;
    starts.sort_unstable_by_key(|&(_, position)| position);
    Ok(starts.into_iter().map(|(id, _)| id).collect())
}

/// How many listings of `scope` each category has (the scope's own category ignored), largest
/// first.
#[tracing::instrument(skip_all, fields(seller_id = scope.seller_id.map(tracing::field::display)))]
pub async fn category_counts(
    pool: &PgPool,
    access: Access,
    scope: &Scope,
) -> Result<Vec<CategoryCount>, sqlx::Error> {
    let statement = category_counts_statement(scope);
    let mut reader = Reader::open(pool, access).await?;
    let counts = bind_args!(
        sqlx::query_as::<_, CategoryCount>(AssertSqlSafe(statement.text)),
        &statement.args
    )
    .fetch_all(reader.connection())
    .await?;
    reader.close().await?;
    Ok(counts)
}

/// How many listings `scope` covers.
#[tracing::instrument(skip_all, fields(seller_id = scope.seller_id.map(tracing::field::display)))]
pub async fn count(pool: &PgPool, access: Access, scope: &Scope) -> Result<i64, sqlx::Error> {
    let sql = Sql::new(scope, true);
    let text = format!("SELECT count(*) FROM products WHERE {}", sql.where_clause());
    let statement = sql.finish(text);
    let mut reader = Reader::open(pool, access).await?;
    let count = bind_args!(
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(statement.text)),
        &statement.args
    )
    .fetch_one(reader.connection())
    .await?;
    reader.close().await?;
    Ok(count)
}

/// Whether a listing with this id was ever stored (deleted ones included: their keys still mark
/// a place in every order).
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn exists(pool: &PgPool, id: ProductId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// A text naming the statement and parameters of `scope`'s conditions (with or without its
/// category): the key of the caches in front of these queries.
pub fn cache_key(scope: &Scope, by_category: bool) -> String {
    let sql = Sql::new(scope, by_category);
    format!("{}|{:?}", sql.where_clause(), sql.args)
}

/// A catalog query to [`explain`].
#[derive(Debug, Clone, Copy)]
pub enum Explained {
    Page {
        order: Order,
        start: Start,
        limit: i64,
    },
    PageStarts {
        order: Order,
        per_page: u32,
    },
    CategoryCounts,
}

/// The plan PostgreSQL picks for one of the catalog's queries (`EXPLAIN (ANALYZE, BUFFERS)`
/// when `analyze`): for the plan-shape tests, and for reading.
#[tracing::instrument(skip_all, fields(seller_id = scope.seller_id.map(tracing::field::display)))]
pub async fn explain(
    pool: &PgPool,
    access: Access,
    scope: &Scope,
    query: Explained,
    analyze: bool,
) -> Result<String, sqlx::Error> {
    let statement = match query {
        Explained::Page {
            order,
            start,
            limit,
        } => page_statement(scope, order, start, limit),
        Explained::PageStarts { order, per_page } => {
            page_starts_statement(scope, order, per_page, crate::domain::catalog::MAX_PAGE)
        }
        Explained::CategoryCounts => category_counts_statement(scope),
    };
    let prefix = if analyze {
        "EXPLAIN (ANALYZE, BUFFERS) "
    } else {
        "EXPLAIN "
    };
    let mut reader = Reader::open(pool, access).await?;
    let lines: Vec<String> = bind_args!(
        sqlx::query_scalar::<_, String>(AssertSqlSafe(format!("{prefix}{}", statement.text))),
        &statement.args
    )
    .fetch_all(reader.connection())
    .await?;
    reader.close().await?;
    Ok(lines.join("\n"))
}
