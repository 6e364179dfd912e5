-- Undo 006_create_orders: the lines before the orders they point to.
DROP TABLE order_items;
DROP TABLE orders;
DROP TYPE order_status;
