-- A goose migration: both parts in one file.

-- +goose Up
CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL,
	updated_at timestamptz
);
INSERT INTO users (name) VALUES ('-- +goose Down is not a marker in a string');

-- +goose Down
DROP TABLE users;
