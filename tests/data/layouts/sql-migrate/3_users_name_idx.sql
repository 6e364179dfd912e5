-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);

-- +migrate Down notransaction
DROP INDEX CONCURRENTLY IF EXISTS users_name_idx;
