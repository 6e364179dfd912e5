-- migrate:up
CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL
);

INSERT INTO users (name) VALUES ('-- migrate:down is not a marker in a string');

-- migrate:down
DROP TABLE users;
