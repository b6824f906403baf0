-- Catalog reads without OFFSET (issue 12): every sort has a b-tree on its full key (the sort
-- column, then id), so a page starts at a listing's key and reads only its own rows, and the
-- columns the filters test (category, price) are in the index, so counting a category and
-- finding where each page starts are index-only scans. Text searches keep the GIN indexes of V1.
-- Stock movements change none of these columns, so they stay HOT updates.

DROP INDEX products_newest;
DROP INDEX products_by_price;
DROP INDEX products_by_name;
DROP INDEX products_by_category;
DROP INDEX products_by_seller;

CREATE INDEX products_newest ON products (created_at DESC, id DESC) INCLUDE (category, price)
    WHERE deleted_at IS NULL;
CREATE INDEX products_by_price ON products (price, id) INCLUDE (category)
    WHERE deleted_at IS NULL;
CREATE INDEX products_by_name ON products (name, id) INCLUDE (category, price)
    WHERE deleted_at IS NULL;
CREATE INDEX products_by_category ON products (category, created_at DESC, id DESC) INCLUDE (price)
    WHERE deleted_at IS NULL;
CREATE INDEX products_by_category_price ON products (category, price, id)
    WHERE deleted_at IS NULL;
CREATE INDEX products_by_category_name ON products (category, name, id) INCLUDE (price)
    WHERE deleted_at IS NULL;
CREATE INDEX products_by_seller ON products (seller_id, created_at DESC, id DESC)
    INCLUDE (category, price) WHERE deleted_at IS NULL;
