-- Feature flags: a global list (seeded below), per-account overrides, and
-- one function the application asks.  A flag is on for an account when
-- the account overrides it, else when it is on by default, else when the
-- account's plan ranks at least the flag's min_plan.
--
-- verify: SELECT count(*) = 4 FROM feature_flags
-- verify: SELECT feature_enabled(0, 'dark_mode') AND NOT feature_enabled(0, 'no_such_flag')

CREATE TABLE feature_flags (
    key                 text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]*$'),
    description         text,
    enabled_by_default  boolean NOT NULL DEFAULT false,
    min_plan            text REFERENCES plans (code) ON UPDATE CASCADE
);

COPY feature_flags (key, description, enabled_by_default, min_plan) FROM stdin;
new_checkout	Redesigned checkout flow	f	\N
bulk_import	CSV import of products; one file at a time	f	pro
audit_export	Download the audit log	f	enterprise
dark_mode	\N	t	\N
\.

CREATE TABLE account_feature_flags (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    flag_key    text NOT NULL REFERENCES feature_flags (key) ON DELETE CASCADE,
    enabled     boolean NOT NULL,
    PRIMARY KEY (account_id, flag_key)
);

CREATE FUNCTION feature_enabled(p_account_id bigint, p_flag text) RETURNS boolean
    LANGUAGE plpgsql
    STABLE
AS $$
DECLARE
    v_override  boolean;
    v_flag      feature_flags%ROWTYPE;
BEGIN
    SELECT aff.enabled INTO v_override
      FROM account_feature_flags AS aff
     WHERE aff.account_id = p_account_id AND aff.flag_key = p_flag;
    IF FOUND THEN
        RETURN v_override;
    END IF;

    SELECT * INTO v_flag FROM feature_flags AS f WHERE f.key = p_flag;
    IF NOT FOUND THEN
        RETURN false;               -- unknown flags are off
    ELSIF v_flag.enabled_by_default THEN
        RETURN true;
    ELSIF v_flag.min_plan IS NULL THEN
        RETURN false;
    END IF;

    RETURN EXISTS (
        SELECT 1
          FROM accounts AS a
          JOIN plans AS have ON have.code = a.plan_code
          JOIN plans AS need ON need.code = v_flag.min_plan
         WHERE a.id = p_account_id
           AND have.rank >= need.rank);
END;
$$;

COMMENT ON FUNCTION feature_enabled(bigint, text) IS 'Is flag p_flag on for account p_account_id?';
