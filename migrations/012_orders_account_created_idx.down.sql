-- pgbundle:no-transaction
--
-- Undo 012_orders_account_created_idx without blocking writes to orders.
DROP INDEX CONCURRENTLY IF EXISTS orders_account_created_idx;
