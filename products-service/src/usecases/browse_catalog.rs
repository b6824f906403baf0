//! One page of the catalog: what it covers, in which order, where it starts, and the figures
//! around it (total, category counts).
//!
//! - **Counts first.** The category counts of the query (its category ignored: the facets a
//!   shopper can switch to) give the total, decide whether a search found anything, and how to
//!   order it. The whole catalog's are exact (kept by triggers); those of a search or a price
//!   range are counted and kept [`COUNTS_TTL`]; a seller's own listings are counted every time.
//! - **Search people forgive.** Words and word prefixes of names and descriptions (full text,
//!   GIN). When that finds nothing anywhere, a typo-tolerant search of the names (pg_trgm word
//!   similarity, or the text inside a name) takes over and the page says so (`fuzzy`).
//! - **Ranked while it stays cheap.** Relevance ranks every match when there are at most
//!   [`RANKED_MATCHES`]: they are read through the GIN index and sorted. A larger match set is
//!   ordered newest first instead, walking the date index and stopping after one page, so a word
//!   in a fifth of the catalog costs one page of rows, not a fifth of the catalog; the page says
//!   which order it used (`sort`).
//! - **Pages without OFFSET.** A page starts at a listing's sort key: the listing the client saw
//!   last (`after`, `before`), or, for a page asked by number, the first listing of that page
//!   found by one scan of the sort's index and kept [`PAGE_STARTS_TTL`]. A listing created
//!   meanwhile does not move items between pages reached with `after` / `before`.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use sqlx::PgPool;

use crate::{
    cache::TtlCache,
    db::{
        ProductRow,
        catalog::{self, Access, Matching, Order, Scope, Start},
        products::{self, CategoryCount},
    },
    domain::{CatalogFilter, ProductId, Sort, UserId, catalog::Cursor, catalog::MAX_PAGE},
    error::ApiError,
};

/// How long the public catalog's counts are reused: totals and category counts lag at most this
/// much behind (the items of a page are always read fresh).
pub const COUNTS_TTL: Duration = Duration::from_secs(1);
/// How long the first listing of each page is reused for pages asked by number. It only decides
/// where such a page starts (its items are read fresh); a page starts at most this long after
/// listings created or deleted before it moved the boundaries.
pub const PAGE_STARTS_TTL: Duration = Duration::from_secs(5);
/// Largest match set that relevance ranks in full; above it, newest first.
pub const RANKED_MATCHES: i64 = 1_000;
/// Category counts shown with a page (the largest ones, and the chosen category).
pub const FACETS_SHOWN: usize = 50;

/// Category counts kept at once (one entry per search text and price range).
const COUNTS_ENTRIES: usize = 1024;
/// Page-start lists kept at once: each holds at most [`MAX_PAGE`] ids (160 KB), usually far fewer.
const PAGE_STARTS_ENTRIES: usize = 64;

/// The public catalog's caches; cheap to clone.
#[derive(Clone)]
pub struct CatalogCaches {
    counts: TtlCache<Arc<Vec<CategoryCount>>>,
    page_starts: TtlCache<Arc<Vec<ProductId>>>,
}

impl Default for CatalogCaches {
    fn default() -> Self {
        Self {
            counts: TtlCache::new(COUNTS_TTL, COUNTS_ENTRIES),
            page_starts: TtlCache::new(PAGE_STARTS_TTL, PAGE_STARTS_ENTRIES),
        }
    }
}

/// A page and what the client needs to show and continue it.
#[derive(Debug)]
pub struct CatalogPage {
    pub items: Vec<ProductRow>,
    pub total: i64,
    /// The order used: `Relevance` asked of a large match set comes back `Newest`.
    pub sort: Sort,
    /// Category counts of the query (every category), largest first; `None` for a seller's own.
    pub facets: Option<Vec<CategoryCount>>,
    /// The text search found nothing, and these are names similar to the text.
    pub fuzzy: bool,
    /// `after=` this id gives the next page (absent on the last one).
    pub next_after: Option<ProductId>,
    /// `before=` this id gives the previous page (absent on the first one).
    pub prev_before: Option<ProductId>,
    /// No figure of the page is older than this (the items are newer): what an HTTP cache may
    /// count its freshness from.
    pub as_of: SystemTime,
}

/// A page of `seller`'s own listings, counted fresh (no cache).
#[tracing::instrument(skip_all, fields(seller_id = %seller))]
pub async fn browse_own_listings(
    pool: &PgPool,
    seller: UserId,
    filter: &CatalogFilter,
) -> Result<CatalogPage, ApiError> {
    let own = CatalogFilter {
        seller_id: Some(seller),
        ..filter.clone()
    };
    browse_catalog(pool, None, &own).await
}

/// A page of the public catalog (`caches` given: counts may lag [`COUNTS_TTL`]) or of a seller's
/// own listings (`caches` absent, `filter.seller_id` set: everything counted fresh).
#[tracing::instrument(skip_all, fields(seller_id = filter.seller_id.map(tracing::field::display)))]
pub async fn browse_catalog(
    pool: &PgPool,
    caches: Option<&CatalogCaches>,
    filter: &CatalogFilter,
) -> Result<CatalogPage, ApiError> {
    let started = SystemTime::now();
    let Some(matching) = matching(filter) else {
        return Ok(CatalogPage::empty(filter.sort, started));
    };
    let mut scope = Scope {
        matching,
        category: filter.category.clone(),
        min_price: filter.min_price.map(|price| price.value()),
        max_price: filter.max_price.map(|price| price.value()),
        seller_id: filter.seller_id,
    };
    let mut counts = Counts::of(pool, caches, &scope).await?;
    let mut fuzzy = false;
    if matches!(scope.matching, Matching::Words(_))
        && counts.anywhere == 0
        && let Some(similar) = similar(filter)
    {
        scope.matching = similar;
        counts = Counts::of(pool, caches, &scope).await?;
        fuzzy = true;
    }

    let small = counts.total <= RANKED_MATCHES;
    let (order, sort) = match (filter.sort, &scope.matching) {
        (Sort::Relevance, Matching::Words(_)) if small => (Order::Rank, Sort::Relevance),
        (Sort::Relevance, Matching::Similar { .. }) if small => {
            (Order::Similarity, Sort::Relevance)
        }
        (Sort::Relevance | Sort::Newest, _) => (Order::Newest, Sort::Newest),
        (Sort::PriceAsc, _) => (Order::PriceAsc, Sort::PriceAsc),
        (Sort::PriceDesc, _) => (Order::PriceDesc, Sort::PriceDesc),
        (Sort::Name, _) => (Order::Name, Sort::Name),
    };
    let access = if scope.matching != Matching::All && small {
        Access::Bitmap
    } else {
        Access::Planner
    };

    let per_page = filter.page.per_page;
    let start = match filter.cursor {
        Some(Cursor::After(id)) => Start::After(id),
        Some(Cursor::Before(id)) => Start::Before(id),
        None if filter.page.page == 1 => Start::Top,
        None => {
            let starts = page_starts(pool, caches, access, &scope, order, per_page).await?;
            match starts.get(filter.page.page as usize - 1) {
                Some(&id) => Start::At(id),
                None => {
                    return Ok(CatalogPage {
                        total: counts.total,
                        sort,
                        facets: counts.facets,
                        fuzzy,
                        ..CatalogPage::empty(sort, counts.as_of.min(started))
                    });
                }
            }
        }
    };

    let limit = i64::from(per_page) + 1;
    let mut rows = catalog::page(pool, access, &scope, order, start, limit).await?;
    if rows.is_empty()
        && let Start::After(id) | Start::Before(id) = start
        && !catalog::exists(pool, id).await?
    {
        let field = if matches!(start, Start::After(_)) {
            "after"
        } else {
            "before"
        };
        return Err(ApiError::field(field, "is not the id of a listing"));
    }
    let mut start = start;
    if let Start::Before(_) = start
        && rows.len() < per_page as usize
    {
        // Less than a page before it: that is the first page.
        start = Start::Top;
        rows = catalog::page(pool, access, &scope, order, start, limit).await?;
    }

    let more = rows.len() > per_page as usize;
    rows.truncate(per_page as usize);
    let (next_after, prev_before) = match start {
        Start::Before(_) => {
            rows.reverse();
            (rows.last().map(|row| row.id), more.then(|| rows[0].id))
        }
        Start::Top => (more.then(|| rows.last().map(|row| row.id)).flatten(), None),
        Start::At(_) | Start::After(_) => (
            more.then(|| rows.last().map(|row| row.id)).flatten(),
            rows.first().map(|row| row.id),
        ),
    };
    Ok(CatalogPage {
        items: rows,
        total: counts.total,
        sort,
        facets: counts.facets,
        fuzzy,
        next_after,
        prev_before,
        as_of: counts.as_of.min(started),
    })
}

impl CatalogPage {
    fn empty(sort: Sort, as_of: SystemTime) -> Self {
        Self {
            items: Vec::new(),
            total: 0,
            sort,
            facets: None,
            fuzzy: false,
            next_after: None,
            prev_before: None,
            as_of,
        }
    }
}

/// What the filter's text matches: everything without a text, its words when it has any, else
/// (only symbols) similar names, and `None` when nothing can match.
fn matching(filter: &CatalogFilter) -> Option<Matching> {
    if filter.text.is_none() {
        return Some(Matching::All);
    }
    filter
        .prefix_tsquery()
        .map(Matching::Words)
        .or_else(|| similar(filter))
}

fn similar(filter: &CatalogFilter) -> Option<Matching> {
    let pattern = filter.substring_pattern()?;
    Some(Matching::Similar {
        text: filter.text.clone()?,
        pattern,
    })
}

/// The total of a query, its category counts (public catalog), its total in every category, and
/// when they were counted.
struct Counts {
    total: i64,
    anywhere: i64,
    facets: Option<Vec<CategoryCount>>,
    as_of: SystemTime,
}

impl Counts {
    async fn of(
        pool: &PgPool,
        caches: Option<&CatalogCaches>,
        scope: &Scope,
    ) -> Result<Self, ApiError> {
        let access = if scope.matching == Matching::All {
            Access::Planner
        } else {
            Access::Bitmap
        };
        let counted_at = SystemTime::now();
        let Some(caches) = caches else {
            let total = catalog::count(pool, access, scope).await?;
            return Ok(Self {
                total,
                anywhere: total,
                facets: None,
                as_of: counted_at,
            });
        };
        let (counts, as_of) = if scope.is_whole_catalog() {
            (Arc::new(products::categories(pool).await?), counted_at)
        } else {
            caches
                .counts
                .get_or_try_compute(catalog::cache_key(scope, false), || async {
                    catalog::category_counts(pool, access, scope)
                        .await
                        .map(Arc::new)
                })
                .await?
        };
        let anywhere = counts.iter().map(|category| category.count).sum();
        let total = match &scope.category {
            Some(chosen) => counts
                .iter()
                .find(|category| &category.name == chosen)
                .map_or(0, |category| category.count),
            None => anywhere,
        };
        let facets = counts
            .iter()
            .enumerate()
            .filter(|(rank, category)| {
                *rank < FACETS_SHOWN || scope.category.as_ref() == Some(&category.name)
            })
            .map(|(_, category)| category.clone())
            .collect();
        Ok(Self {
            total,
            anywhere,
            facets: Some(facets),
            as_of,
        })
    }
}

/// The first listing of every page of the query, from the cache when the public catalog has it.
async fn page_starts(
    pool: &PgPool,
    caches: Option<&CatalogCaches>,
    access: Access,
    scope: &Scope,
    order: Order,
    per_page: u32,
) -> Result<Arc<Vec<ProductId>>, ApiError> {
    let compute = || async {
        catalog::page_starts(pool, access, scope, order, per_page, MAX_PAGE)
            .await
            .map(Arc::new)
    };
    let starts = match caches {
        Some(caches) => {
            let key = format!("{}|{order:?}|{per_page}", catalog::cache_key(scope, true));
            caches.page_starts.get_or_try_compute(key, compute).await?.0
        }
        None => compute().await?,
    };
    Ok(starts)
}
