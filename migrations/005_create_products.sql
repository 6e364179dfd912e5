-- What an account sells.  Prices are integer cents in the product's
-- currency; stock is counted here and given back when an order is
-- cancelled (see 007's cancel_stale_orders).
--
-- verify: SELECT count(*) = 0 FROM products

CREATE TABLE products (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sku          text NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    price_cents  integer NOT NULL CHECK (price_cents >= 0),
    currency     char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    stock        integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, sku)
);

-- The storefront lists only active products, newest first.
CREATE INDEX products_active_idx ON products (account_id, created_at DESC)
    WHERE active;

COMMENT ON TABLE products IS 'Catalogue of one account';
COMMENT ON COLUMN products.sku IS 'Stock keeping unit, unique per account; upper case (009)';

CREATE TRIGGER products_set_updated_at
    BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
