-- Listings and the per-order stock reservations of products-service.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE products (
    id          UUID          PRIMARY KEY,
    seller_id   UUID          NOT NULL,
    seller_name TEXT          NOT NULL,
    name        TEXT          NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description TEXT          NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
    category    TEXT          NOT NULL CHECK (char_length(category) BETWEEN 1 AND 50),
    price       NUMERIC(9, 2) NOT NULL CHECK (price > 0 AND price <= 1000000),
    -- Units available for sale; reservations take from it. Never below zero, whatever races.
    stock       INTEGER       NOT NULL CHECK (stock >= 0),
    image_url   TEXT,
    -- Bumped by every change (edits and stock movements): If-Match and event ordering use it.
    version     BIGINT        NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ   NOT NULL DEFAULT now(),
    -- Soft delete: a deleted listing leaves the catalog but late order events still find it.
    deleted_at  TIMESTAMPTZ,
    search      TSVECTOR      GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') ||
        setweight(to_tsvector('english', description), 'B')
    ) STORED
)
-- Room on each page so stock movements (no indexed column changes) are HOT updates that touch
-- no index.
WITH (fillfactor = 80);

-- The catalog only ever reads live listings, so every index is partial on them. The GIN indexes
-- skip the pending list (fastupdate = off): listings are written rarely, searched often, and a
-- pending list both slows searches and makes the planner avoid the index until a vacuum.
CREATE INDEX products_search ON products USING GIN (search) WITH (fastupdate = off)
    WHERE deleted_at IS NULL;
CREATE INDEX products_name_trgm ON products USING GIN (name gin_trgm_ops) WITH (fastupdate = off)
    WHERE deleted_at IS NULL;
CREATE INDEX products_newest ON products (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_by_price ON products (price, id) WHERE deleted_at IS NULL;
CREATE INDEX products_by_name ON products (name, id) WHERE deleted_at IS NULL;
CREATE INDEX products_by_category ON products (category, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_by_seller ON products (seller_id, created_at DESC) WHERE deleted_at IS NULL;

-- One row per order seen: what it holds and where it is in its life. A release that arrives
-- before its order.placed leaves a tombstone (status released, no lines) so the late
-- order.placed is ignored instead of holding stock forever.
CREATE TABLE reservations (
    order_id   UUID        PRIMARY KEY,
    status     TEXT        NOT NULL CHECK (status IN ('reserved', 'released', 'sold', 'rejected')),
    -- [{"product_id": "...", "quantity": 2, "unit_price": "24.99"}]
    lines      JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
