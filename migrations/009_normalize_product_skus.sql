-- Data only: SKUs were typed by hand and some have lower-case letters or
-- stray blanks; the warehouse system wants them trimmed and upper case.
--
-- The original spelling is not kept anywhere, so this cannot be undone:
-- the down script changes nothing and says so, which lets a rollback pass
-- over it (the schema is the same either way).  It fails, and changes
-- nothing, if two SKUs of one account differ only in case: merge those
-- products by hand first.
--
-- verify: SELECT NOT EXISTS (SELECT 1 FROM products WHERE sku <> upper(btrim(sku)))

DO $normalize$
DECLARE
    n  bigint;
BEGIN
    UPDATE products
       SET sku = upper(btrim(sku))
     WHERE sku <> upper(btrim(sku));
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE NOTICE 'normalized % product SKU(s)', n;
END
$normalize$;
