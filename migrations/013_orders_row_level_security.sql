-- Tenant isolation in the database: once the application has run
-- SET app.account_id = '42', it sees only that account's orders, and the
-- lines of those orders.  Superusers and the table owner bypass the
-- policies (no FORCE ROW LEVEL SECURITY), so migrations and maintenance
-- jobs still see everything.
--
-- verify: SELECT relrowsecurity FROM pg_class WHERE oid = 'orders'::regclass
-- verify: SELECT count(*) = 2 FROM pg_policy WHERE polname LIKE '%\_tenant\_isolation'

CREATE FUNCTION current_account_id() RETURNS bigint
    LANGUAGE sql
    STABLE
    RETURN nullif(current_setting('app.account_id', true), '')::bigint;

COMMENT ON FUNCTION current_account_id() IS 'The account of this session (app.account_id), NULL if unset';

ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_items ENABLE ROW LEVEL SECURITY;

CREATE POLICY orders_tenant_isolation ON orders
    USING (account_id = current_account_id())
    WITH CHECK (account_id = current_account_id());

CREATE POLICY order_items_tenant_isolation ON order_items
    USING (EXISTS (SELECT 1 FROM orders AS o
                    WHERE o.id = order_items.order_id
                      AND o.account_id = current_account_id()));
