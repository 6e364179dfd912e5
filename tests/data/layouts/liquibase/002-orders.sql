-- liquibase formatted sql

-- changeset bob:create-orders
CREATE TABLE orders (id int, user_id int REFERENCES users);
-- rollback DROP TABLE orders;
-- changeset bob:note
COMMENT ON TABLE orders IS 'orders';
-- rollback not required
