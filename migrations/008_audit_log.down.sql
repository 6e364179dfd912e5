-- Undo 008_audit_log: triggers, then the function, then the table.
DROP TRIGGER products_audit ON products;
DROP TRIGGER orders_audit ON orders;
DROP FUNCTION audit_row_change();
DROP TABLE audit_log;
