-- +migrate Up
COMMENT ON TABLE users IS 'people';

-- +migrate Down
COMMENT ON TABLE users IS NULL;
