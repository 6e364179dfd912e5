-- +migrate Up
-- +migrate StatementBegin
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END;
$$;
-- +migrate StatementEnd
CREATE TRIGGER users_touch BEFORE UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- +migrate Down
DROP TRIGGER users_touch ON users;
DROP FUNCTION touch_updated_at();
