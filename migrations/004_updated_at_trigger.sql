-- Keep updated_at honest without trusting the application: a BEFORE UPDATE
-- trigger stamps it on every change.  Later tables (products, orders)
-- attach the same function.
--
-- verify: SELECT count(*) = 2 FROM pg_trigger WHERE tgname LIKE '%\_set\_updated\_at' AND NOT tgisinternal

CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
BEGIN
    -- A caller that sets updated_at itself (a data import, say) keeps its
    -- value; everybody else gets the time of the statement.
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$fn$;

COMMENT ON FUNCTION set_updated_at() IS 'Trigger: stamp updated_at := now(); unless the UPDATE set it';

CREATE TRIGGER accounts_set_updated_at
    BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
