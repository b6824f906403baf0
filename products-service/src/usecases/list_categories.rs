//! The categories of live listings with their counts, largest first (exact: kept by triggers).

use sqlx::PgPool;

use crate::{
    db::products::{self, CategoryCount},
    error::ApiError,
};

/// Every category of live listings with its count.
#[tracing::instrument(skip_all)]
pub async fn list_categories(pool: &PgPool) -> Result<Vec<CategoryCount>, ApiError> {
    Ok(products::categories(pool).await?)
}
