-- A sql-migrate migration: both parts in one file.

-- +migrate Up
CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	updated_at timestamptz
);
INSERT INTO users (name) VALUES ('-- +migrate Down is not a marker in a string');

-- +migrate Down
DROP TABLE users;
