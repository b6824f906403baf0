-- Inserts :n listings straight into products-service's table (psql -v n=100000), with names,
-- descriptions and categories drawn from small vocabularies so searches and category filters
-- match realistic fractions of the catalog: each name noun ("turntable") is in 1/15 of the
-- listings, "smoke" (a smoke-free home) in 1/6 of the descriptions (the common word of the
-- benchmark), "autographed" in 1/997 (the rare word), each category 1/7. Bypasses the API and
-- the outbox on purpose: only the catalog reads use these rows.
\set ON_ERROR_STOP on
INSERT INTO products (id, seller_id, seller_name, name, description, category, price, stock, created_at, updated_at)
SELECT gen_random_uuid(),
       ('0193a1d0-5eed-7000-8000-' || lpad(to_hex(1000 + g % 500), 12, '0'))::uuid,
       'seller' || (g % 500),
       (ARRAY['Vintage','Used','Mint','Classic','Rare','Boxed','Restored','Signed','Portable','Compact'])[1 + g % 10]
         || ' ' ||
       (ARRAY['turntable','amplifier','camera','lens','guitar','synthesizer','novel','record','notebook','fountain pen',
              'headphones','tripod','drum machine','cassette deck','first edition'])[1 + (g / 10) % 15]
         || ' #' || g,
       (ARRAY['Well kept, works perfectly, ships in original box',
              'Light wear on the corners, fully tested last week',
              'Collector condition, includes manual and receipt',
              'Some scratches, sold as seen, local pickup possible'])[1 + g % 4]
         || CASE WHEN g % 6 = 0 THEN ', from a smoke-free home' ELSE '' END
         || CASE WHEN g % 997 = 0 THEN ', autographed by the maker' ELSE '' END,
       (ARRAY['Audio','Cameras','Instruments','Books','Records','Stationery','Accessories'])[1 + g % 7],
       (1 + (g * 7919) % 90000) / 100.0,
       1 + g % 20,
       now() - make_interval(secs => g),
       now()
FROM generate_series(1, :n) AS g;
-- Vacuumed as autovacuum would soon: the visibility map lets counts be index-only scans.
VACUUM (ANALYZE) products;
