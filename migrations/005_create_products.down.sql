-- Undo 005_create_products (its trigger and index go with the table).
DROP TABLE products;
