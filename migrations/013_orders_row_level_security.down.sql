-- Undo 013_orders_row_level_security: the policies use the function.
DROP POLICY order_items_tenant_isolation ON order_items;
DROP POLICY orders_tenant_isolation ON orders;
ALTER TABLE order_items DISABLE ROW LEVEL SECURITY;
ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
DROP FUNCTION current_account_id();
