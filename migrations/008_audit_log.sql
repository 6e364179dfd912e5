-- An append-only audit log of changes to orders and products, written by
-- a trigger so that no code path can forget it.  The acting user comes
-- from the session setting app.actor when the application sets it
-- (SET LOCAL app.actor = 'user:42'), else the session user.
--
-- verify: SELECT count(*) = 2 FROM pg_trigger WHERE tgname LIKE '%\_audit' AND NOT tgisinternal
-- verify: SELECT NOT EXISTS (SELECT 1 FROM audit_log)

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint,
    table_name  text NOT NULL,
    operation   text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    row_id      text,
    old_row     jsonb,
    new_row     jsonb,
    actor       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX audit_log_account_at_idx ON audit_log (account_id, at DESC);

COMMENT ON TABLE audit_log IS 'Who changed what; rows are never updated or deleted';

CREATE FUNCTION audit_row_change() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $audit$
DECLARE
    v_old  jsonb;
    v_new  jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_new := to_jsonb(NEW);
    ELSIF TG_OP = 'UPDATE' THEN
        v_old := to_jsonb(OLD);
        v_new := to_jsonb(NEW);
        IF v_old = v_new THEN
            RETURN NULL;            -- nothing changed; nothing to log
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        v_old := to_jsonb(OLD);
    ELSE
        RAISE EXCEPTION 'audit_row_change: unexpected TG_OP %; expected INSERT, UPDATE or DELETE', TG_OP;
    END IF;

    INSERT INTO audit_log (account_id, table_name, operation, row_id,
                           old_row, new_row, actor)
    VALUES ((coalesce(v_new, v_old) ->> 'account_id')::bigint,
            TG_TABLE_NAME,
            TG_OP,
            coalesce(v_new, v_old) ->> 'id',
            v_old,
            v_new,
            coalesce(nullif(current_setting('app.actor', true), ''),
                     session_user::text));
    RETURN NULL;                    -- AFTER trigger: the result is ignored
END;
$audit$;

COMMENT ON FUNCTION audit_row_change() IS 'Trigger: append one audit_log row per changed row';

CREATE TRIGGER orders_audit
    AFTER INSERT OR UPDATE OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();

CREATE TRIGGER products_audit
    AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
