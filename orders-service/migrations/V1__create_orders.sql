-- Orders, their lines and status history, idempotency keys, and the copy of the catalog kept
-- from products-service's product.* events.

CREATE TABLE catalog_products (
    product_id  UUID        PRIMARY KEY,
    seller_id   UUID,
    name        TEXT,
    price       NUMERIC(12, 2),
    stock       INTEGER,
    -- The product's version in products-service: an event older than this one is ignored.
    version     BIGINT      NOT NULL,
    deleted     BOOLEAN     NOT NULL DEFAULT FALSE,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id             UUID        PRIMARY KEY,
    user_id        UUID        NOT NULL,
    status         TEXT        NOT NULL CHECK (status IN
                       ('PENDING', 'CONFIRMED', 'PAID', 'CANCELLED', 'REJECTED', 'EXPIRED')),
    total          NUMERIC(14, 2) NOT NULL,
    reason         TEXT,
    expires_at     TIMESTAMPTZ,
    -- Bumped by every transition; lets a live view drop stale or repeated changes.
    version        INTEGER     NOT NULL DEFAULT 1,
    correlation_id TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_created ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_created ON orders (created_at DESC, id DESC);
-- The sweeper's two scans.
CREATE INDEX orders_confirmed_expiry ON orders (expires_at) WHERE status = 'CONFIRMED';
CREATE INDEX orders_pending_created ON orders (created_at) WHERE status = 'PENDING';

CREATE TABLE order_items (
    order_id    UUID           NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position    INTEGER        NOT NULL,
    product_id  UUID           NOT NULL,
    name        TEXT           NOT NULL,
    unit_price  NUMERIC(12, 2) NOT NULL,
    quantity    INTEGER        NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    PRIMARY KEY (order_id, position),
    UNIQUE (order_id, product_id)
);

CREATE TABLE order_status_history (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     UUID        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status  TEXT,
    to_status    TEXT        NOT NULL,
    reason       TEXT,
    changed_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, id);

-- One row per (user, Idempotency-Key): the request's fingerprint and the response it got.
CREATE TABLE idempotency_keys (
    user_id         UUID        NOT NULL,
    key             TEXT        NOT NULL,
    request_hash    TEXT        NOT NULL,
    response_status SMALLINT,
    response_body   JSONB,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
