-- +goose up
COMMENT ON TABLE users IS 'people';

-- +goose down
COMMENT ON TABLE users IS NULL;
