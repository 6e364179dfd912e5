-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER users_touch BEFORE UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER users_touch ON users;
DROP FUNCTION touch_updated_at();
-- +goose StatementEnd
