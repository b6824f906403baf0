-- The catalog copy from a run of product.created or product.updated in one statement: each
-- product's row takes the snapshot if it is newer than the stored one (the run holds each
-- product once, its highest version: db/catalog.rs).
--
-- $1 product ids, $2 seller ids, $3 names, $4 prices, $5 stocks, $6 versions.
INSERT INTO catalog_products (product_id, seller_id, name, price, stock, version)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::numeric[], $5::int[], $6::bigint[])
ON CONFLICT (product_id) DO UPDATE
    SET seller_id = EXCLUDED.seller_id, name = EXCLUDED.name, price = EXCLUDED.price,
        stock = EXCLUDED.stock, version = EXCLUDED.version, deleted = FALSE,
        updated_at = now()
    WHERE catalog_products.version < EXCLUDED.version
