//! `/api/products`: thin handlers that parse the request into domain types, call one use case,
//! and map the result to the response DTO. Reads carry the HTTP caching headers of
//! [`super::caching`].

use std::time::SystemTime;

use auth_kit::AuthUser;
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::PgPool;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use web_kit::{ErrorBody, Json, Path, Query, RequestId, error::FieldErrors};

use super::caching::{cacheable, cacheable_json, never_stored};
use crate::{
    db::{ProductRow, products::CategoryCount},
    domain::{
        Actor, CatalogFilter, Category, Description, ImageUrl, NewListing, Price, ProductChanges,
        ProductId, ProductName, Stock, UserId, catalog::CatalogQuery,
    },
    error::ApiError,
    usecases::{
        CatalogCaches, CatalogPage, browse_catalog, browse_own_listings,
        create_listing::{Seller, create_listing},
        delete_listing::delete_listing,
        edit_listing::edit_listing,
        list_categories::list_categories,
        show_listing::show_listing,
    },
};

/// The OpenAPI tag of these routes.
const TAG: &str = "products";

/// A listing as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Product)]
pub struct ProductResponse {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub seller_name: String,
    pub name: String,
    /// Empty when the seller wrote none.
    pub description: String,
    pub category: String,
    /// A decimal string with two places.
    #[schema(example = "24.99")]
    pub price: Decimal,
    pub stock: i32,
    #[schema(required = true)]
    pub image_url: Option<String>,
    /// Grows by one with every change; the `ETag` of the listing.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<ProductRow> for ProductResponse {
    fn from(row: ProductRow) -> Self {
        Self {
            id: row.id.as_uuid(),
            seller_id: row.seller_id.as_uuid(),
            seller_name: row.seller_name,
            name: row.name,
            description: row.description,
            category: row.category,
            price: row.price,
            stock: row.stock,
            image_url: row.image_url,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A page of listings.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProductPage)]
pub struct PageResponse {
    pub items: Vec<ProductResponse>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    /// The order used (`relevance` asked of a very large match set comes back `newest`).
    pub sort: &'static str,
    /// The search found nothing and these are listings with a similar name.
    pub fuzzy: bool,
    /// Listings per category for this query in every category (public catalog only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Vec<CategoryCount>>,
    /// `after=` this id asks for the next page; absent on the last page.
    #[schema(required = true)]
    pub next_after: Option<Uuid>,
    /// `before=` this id asks for the previous page; absent on the first page.
    #[schema(required = true)]
    pub prev_before: Option<Uuid>,
}

impl PageResponse {
    fn new(filter: &CatalogFilter, page: CatalogPage) -> Self {
        Self {
            items: page.items.into_iter().map(ProductResponse::from).collect(),
            page: filter.page.page,
            per_page: filter.page.per_page,
            total: page.total,
            sort: page.sort.as_str(),
            fuzzy: page.fuzzy,
            facets: page.facets,
            next_after: page.next_after.map(ProductId::as_uuid),
            prev_before: page.prev_before.map(ProductId::as_uuid),
        }
    }
}

/// `POST /api/products`. Every field is optional here so that a missing one is reported per
/// field like any other invalid value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewProduct)]
pub struct CreateProductRequest {
    /// 1-200 characters after trimming, no control characters.
    #[schema(value_type = String, example = "Blue Train (LP)")]
    name: Option<String>,
    /// Up to 5,000 characters; line breaks and tabs allowed.
    description: Option<String>,
    /// 1-50 characters after trimming, no control characters.
    #[schema(value_type = String, example = "Records")]
    category: Option<String>,
    #[schema(schema_with = price_schema, required = true)]
    price: Option<serde_json::Value>,
    #[schema(schema_with = stock_schema, required = true)]
    stock: Option<serde_json::Value>,
    /// An http(s) address of a picture.
    image_url: Option<String>,
}

/// A price: a decimal string ("24.99") or a number, above 0 and at most 1,000,000, with at most
/// two decimal places.
fn price_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .examples(["24.99"]),
        )
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .description(Some(
            "A decimal string (\"24.99\") or a number, above 0 and at most 1000000, with at \
             most two decimal places.",
        ))
        .into()
}

/// Units in stock: an integer (or a string of one) from 0 to 1,000,000.
fn stock_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Integer))
        .item(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(
            "Units in stock: an integer (or a string of one) from 0 to 1000000.",
        ))
        .into()
}

/// `PATCH /api/products/{id}`: any subset of the fields; `"image_url": null` removes the image.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProductChanges)]
pub struct UpdateProductRequest {
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    #[schema(schema_with = price_schema)]
    price: Option<serde_json::Value>,
    #[schema(schema_with = stock_schema)]
    stock: Option<serde_json::Value>,
    /// `null` removes the picture.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    image_url: Option<Option<String>>,
}

/// Distinguishes an explicit `null` (`Some(None)`) from an absent field (`None`, the default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Collects per-field messages while parsing.
#[derive(Default)]
struct Fields(FieldErrors);

impl Fields {
    fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed
            .map_err(|message| self.0.entry(field.to_owned()).or_default().push(message))
            .ok()
    }

    fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.0
                .entry(field.to_owned())
                .or_default()
                .push("is required".to_owned());
        }
        value
    }

    fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        if self.0.is_empty() {
            value()
                .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("field parsing lost a value")))
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

fn with_etag(status: StatusCode, row: ProductRow) -> Response {
    let tag =
        HeaderValue::from_str(&etag(row.version)).unwrap_or(HeaderValue::from_static("\"0\""));
    (
        status,
        [(header::ETAG, tag)],
        Json(ProductResponse::from(row)),
    )
        .into_response()
}

/// The version an `If-Match` header asks for: `"3"`, `W/"3"` or `3`; `*` or no header is no
/// condition.
fn expected_version(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ApiError::BadRequest {
        code: "invalid_if_match",
        message: "If-Match must be the listing's version in quotes, such as \"3\"".into(),
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    let text = text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(text);
    text.parse::<i64>().map(Some).map_err(|_| bad())
}

fn actor(user: &AuthUser) -> Actor {
    Actor {
        user_id: UserId::from(user.id),
        is_admin: user.is_admin(),
    }
}

/// `GET /api/products`: the public catalog, cacheable for a second when anonymous.
#[utoipa::path(
    get,
    path = "/api/products",
    tag = TAG,
    operation_id = "list_products",
    summary = "The public catalog, searched, filtered, sorted and paged",
    params(CatalogQuery, ("If-None-Match" = Option<String>, Header, description = "An `ETag` read before: a 304 when it is still current."),),
    responses(
        (status = 200, description = "A page of listings, with its `ETag` and `Cache-Control`.", body = PageResponse,
            headers(("ETag" = String, description = "A tag of this page's body."))),
        (status = 304, description = "`If-None-Match` names the current `ETag`: nothing changed."),
        (status = 422, description = "A query value is invalid (`validation_failed`, naming it).", body = ErrorBody),
    ),
)]
pub async fn list(
    State(pool): State<PgPool>,
    State(caches): State<CatalogCaches>,
    headers: HeaderMap,
    Query(query): Query<CatalogQuery>,
) -> Result<Response, ApiError> {
    let filter = CatalogFilter::parse(query).map_err(ApiError::Validation)?;
    let page = browse_catalog(&pool, Some(&caches), &filter).await?;
    let as_of = page.as_of;
    cacheable_json(&headers, &PageResponse::new(&filter, page), as_of)
}

/// `GET /api/products/mine`: the caller's own listings, counted fresh and never stored by a
/// cache.
#[utoipa::path(
    get,
    path = "/api/products/mine",
    tag = TAG,
    operation_id = "my_products",
    summary = "The caller's own listings",
    params(CatalogQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of the caller's listings.", body = PageResponse),
        (status = 422, description = "A query value is invalid (`validation_failed`, naming it).", body = ErrorBody),
    ),
)]
pub async fn mine(
    State(pool): State<PgPool>,
    user: AuthUser,
    Query(query): Query<CatalogQuery>,
) -> Result<Response, ApiError> {
    let filter = CatalogFilter::parse(query).map_err(ApiError::Validation)?;
    let page = browse_own_listings(&pool, UserId::from(user.id), &filter).await?;
    Ok(never_stored(&PageResponse::new(&filter, page)))
}

/// `GET /api/products/categories`.
#[utoipa::path(
    get,
    path = "/api/products/categories",
    tag = TAG,
    operation_id = "product_categories",
    summary = "Categories of live listings, largest first",
    params(("If-None-Match" = Option<String>, Header, description = "An `ETag` read before: a 304 when it is still current."),),
    responses(
        (status = 200, description = "Every category with its count.", body = [CategoryCount],
            headers(("ETag" = String, description = "A tag of this list."))),
        (status = 304, description = "`If-None-Match` names the current `ETag`: nothing changed."),
    ),
)]
pub async fn categories(
    State(pool): State<PgPool>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let as_of = SystemTime::now();
    cacheable_json(&headers, &list_categories(&pool).await?, as_of)
}

/// `GET /api/products/{id}`, with the version as `ETag` (304 when `If-None-Match` names it).
#[utoipa::path(
    get,
    path = "/api/products/{id}",
    tag = TAG,
    operation_id = "get_product",
    summary = "One listing",
    params(("id" = Uuid, Path, description = "The listing's id."), ("If-None-Match" = Option<String>, Header, description = "An `ETag` read before: a 304 when it is still current."),),
    responses(
        (status = 200, description = "The listing.", body = ProductResponse,
            headers(("ETag" = String, description = "The listing's version, quoted: `\"3\"`."))),
        (status = 304, description = "`If-None-Match` names the current `ETag`: nothing changed."),
        (status = 404, description = "No such listing (`product_not_found`).", body = ErrorBody),
    ),
)]
pub async fn get(
    State(pool): State<PgPool>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let as_of = SystemTime::now();
    let row = show_listing(&pool, ProductId::from(id)).await?;
    let tag = etag(row.version);
    let body = serde_json::to_vec(&ProductResponse::from(row)).map_err(anyhow::Error::from)?;
    Ok(cacheable(&headers, StatusCode::OK, &tag, body, as_of))
}

/// `POST /api/products`: the caller becomes the seller.
#[utoipa::path(
    post,
    path = "/api/products",
    tag = TAG,
    operation_id = "create_product",
    summary = "List a product for sale",
    request_body = CreateProductRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The new listing; the caller is its seller.", body = ProductResponse,
            headers(("ETag" = String, description = "The listing's version, quoted: `\"1\"`.")),
            links(
                ("GetProduct" = (operation_id = "get_product", parameters(("id" = "$response.body#/id")))),
                ("UpdateProduct" = (operation_id = "update_product", parameters(("id" = "$response.body#/id")))),
                ("DeleteProduct" = (operation_id = "delete_product", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 422, description = "A field is missing or invalid (`validation_failed`, naming each), or the body does not fit the schema (`invalid_body`).", body = ErrorBody),
    ),
)]
pub async fn create(
    State(pool): State<PgPool>,
    user: AuthUser,
    RequestId(request_id): RequestId,
    Json(body): Json<CreateProductRequest>,
) -> Result<Response, ApiError> {
    let mut fields = Fields::default();
    let name = fields
        .required("name", body.name)
        .and_then(|raw| fields.check("name", ProductName::parse(&raw)));
    let description = match body.description {
        Some(raw) => fields.check("description", Description::parse(&raw)),
        None => Some(Description::default()),
    };
    let category = fields
        .required("category", body.category)
        .and_then(|raw| fields.check("category", Category::parse(&raw)));
    let price = fields
        .required("price", body.price)
        .and_then(|raw| fields.check("price", Price::parse_json(&raw)));
    let stock = fields
        .required("stock", body.stock)
        .and_then(|raw| fields.check("stock", Stock::parse_json(&raw)));
    let image_url = match body.image_url {
        Some(raw) => fields.check("image_url", ImageUrl::parse(&raw)).map(Some),
        None => Some(None),
    };
    let listing = fields.finish(|| {
        Some(NewListing {
            name: name?,
            description: description?,
            category: category?,
            price: price?,
            stock: stock?,
            image_url: image_url?,
        })
    })?;
    let seller = Seller {
        id: UserId::from(user.id),
        name: user.username,
    };
    let row = create_listing(&pool, seller, listing, &request_id).await?;
    Ok(with_etag(StatusCode::CREATED, row))
}

/// `PATCH /api/products/{id}` (owner or admin), honouring `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/products/{id}",
    tag = TAG,
    operation_id = "update_product",
    summary = "Change a listing (its seller or an administrator)",
    params(
        ("id" = Uuid, Path, description = "The listing's id."),
        ("If-Match" = Option<String>, Header, description = "The version read (`\"3\"`, `W/\"3\"` or `3`); `*` or none changes whatever the version."),
    ),
    request_body = UpdateProductRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The changed listing.", body = ProductResponse,
            headers(("ETag" = String, description = "The new version, quoted."))),
        (status = 400, description = "`If-Match` is not a version (`invalid_if_match`), the body changes nothing (`nothing_to_update`), is not JSON (`malformed_json`), or the id is malformed (`invalid_path`).", body = ErrorBody),
        (status = 403, description = "Neither the seller nor an administrator (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such listing (`product_not_found`).", body = ErrorBody),
        (status = 412, description = "The listing changed since the version in `If-Match` (`version_conflict`).", body = ErrorBody),
        (status = 422, description = "A field is invalid (`validation_failed`, naming each), or the body does not fit the schema (`invalid_body`).", body = ErrorBody),
    ),
)]
pub async fn update(
    State(pool): State<PgPool>,
    user: AuthUser,
    RequestId(request_id): RequestId,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Json(body): Json<UpdateProductRequest>,
) -> Result<Response, ApiError> {
    let expected = expected_version(&headers)?;
    let mut fields = Fields::default();
    let changes = ProductChanges {
        name: body
            .name
            .and_then(|raw| fields.check("name", ProductName::parse(&raw))),
        description: body
            .description
            .and_then(|raw| fields.check("description", Description::parse(&raw))),
        category: body
            .category
            .and_then(|raw| fields.check("category", Category::parse(&raw))),
        price: body
            .price
            .and_then(|raw| fields.check("price", Price::parse_json(&raw))),
        stock: body
            .stock
            .and_then(|raw| fields.check("stock", Stock::parse_json(&raw))),
        image_url: match body.image_url {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => fields.check("image_url", ImageUrl::parse(&raw)).map(Some),
        },
    };
    let changes = fields.finish(|| Some(changes))?;
    let id = ProductId::from(id);
    let row = edit_listing(&pool, actor(&user), id, expected, &changes, &request_id).await?;
    Ok(with_etag(StatusCode::OK, row))
}

/// `DELETE /api/products/{id}` (owner or admin), honouring `If-Match`.
#[utoipa::path(
    delete,
    path = "/api/products/{id}",
    tag = TAG,
    operation_id = "delete_product",
    summary = "Delete a listing (its seller or an administrator)",
    params(
        ("id" = Uuid, Path, description = "The listing's id."),
        ("If-Match" = Option<String>, Header, description = "The version read; `*` or none deletes whatever the version."),
    ),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; open reservations are honoured."),
        (status = 400, description = "`If-Match` is not a version (`invalid_if_match`), or the id is malformed (`invalid_path`).", body = ErrorBody),
        (status = 403, description = "Neither the seller nor an administrator (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such listing (`product_not_found`).", body = ErrorBody),
        (status = 412, description = "The listing changed since the version in `If-Match` (`version_conflict`).", body = ErrorBody),
    ),
)]
pub async fn delete(
    State(pool): State<PgPool>,
    user: AuthUser,
    RequestId(request_id): RequestId,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let expected = expected_version(&headers)?;
    delete_listing(
        &pool,
        actor(&user),
        ProductId::from(id),
        expected,
        &request_id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
