-- Live listings per category, kept exact by triggers in the same transaction as every change
-- (issue 12): the unfiltered catalog's total and category counts are one small read instead of
-- a count of the whole catalog. Stock movements change neither column, so they never fire.

CREATE TABLE category_counts (
    category TEXT   PRIMARY KEY,
    listings BIGINT NOT NULL CHECK (listings >= 0)
);

INSERT INTO category_counts (category, listings)
SELECT category, count(*) FROM products WHERE deleted_at IS NULL GROUP BY category;

-- Inserts, once per statement: a bulk insert adds each category's rows in one update.
CREATE FUNCTION category_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO category_counts AS counts (category, listings)
    SELECT category, count(*) FROM inserted WHERE deleted_at IS NULL GROUP BY category
    -- One row per category in a fixed order, so concurrent inserts lock them alike.
    ORDER BY category
    ON CONFLICT (category) DO UPDATE SET listings = counts.listings + excluded.listings;
    RETURN NULL;
END
$$;
CREATE TRIGGER category_counts_inserted AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION category_counts_inserted();

-- A listing deleted (soft or hard), restored, or moved to another category.
CREATE FUNCTION category_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE category_counts SET listings = listings - 1 WHERE category = OLD.category;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.deleted_at IS NULL THEN
        INSERT INTO category_counts AS counts (category, listings) VALUES (NEW.category, 1)
        ON CONFLICT (category) DO UPDATE SET listings = counts.listings + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER category_counts_updated AFTER UPDATE OF category, deleted_at ON products
    FOR EACH ROW
    WHEN (OLD.category IS DISTINCT FROM NEW.category
          OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION category_counts_changed();
CREATE TRIGGER category_counts_deleted AFTER DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION category_counts_changed();
