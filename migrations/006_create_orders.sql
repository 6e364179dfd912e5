-- Orders and their lines.  An order keeps its user even if the user is
-- deleted later (user_id becomes NULL), and a product that was ever sold
-- cannot be deleted (deactivate it instead).
--
-- verify: SELECT 'pending'::order_status < 'paid'::order_status
-- verify: SELECT to_regclass('order_items') IS NOT NULL

CREATE TYPE order_status AS ENUM
    ('pending', 'paid', 'shipped', 'delivered', 'cancelled');

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    status      order_status NOT NULL DEFAULT 'pending',
    currency    char(3) NOT NULL DEFAULT 'USD',
    note        text,
    placed_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'pending' OR placed_at IS NOT NULL)
);

CREATE TABLE order_items (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id          bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id        bigint NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_cents  integer NOT NULL CHECK (unit_price_cents >= 0),
    UNIQUE (order_id, product_id)
);

CREATE INDEX order_items_product_idx ON order_items (product_id);

COMMENT ON TYPE order_status IS 'Life cycle of an order, in order';
COMMENT ON COLUMN order_items.unit_price_cents IS 'Price when ordered; products.price_cents may change later';

CREATE TRIGGER orders_set_updated_at
    BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
