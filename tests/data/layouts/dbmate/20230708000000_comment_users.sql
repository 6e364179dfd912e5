-- migrate:up
COMMENT ON TABLE users IS 'people';

-- migrate:down
COMMENT ON TABLE users IS NULL;
