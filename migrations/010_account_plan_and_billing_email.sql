-- Every account is on a plan (existing ones start on 'free') and has a
-- billing address, backfilled from the account's first owner.
--
-- verify: SELECT NOT EXISTS (SELECT 1 FROM accounts WHERE plan_code IS NULL)
-- verify: SELECT NOT EXISTS (SELECT 1 FROM accounts AS a WHERE a.billing_email IS NULL AND EXISTS (SELECT 1 FROM users AS u WHERE u.account_id = a.id AND u.role = 'owner'))

-- A constant default: PostgreSQL 11+ adds the column without rewriting
-- the table, so this is quick even on a big accounts table.
ALTER TABLE accounts
    ADD COLUMN plan_code text NOT NULL DEFAULT 'free'
        REFERENCES plans (code) ON UPDATE CASCADE;

ALTER TABLE accounts ADD COLUMN billing_email citext;

-- accounts is small (one row per customer), so a plain CREATE INDEX locks
-- it only briefly; big tables get their index concurrently (see 012).
-- pgbundle:allow index-locks
CREATE INDEX accounts_plan_code_idx ON accounts (plan_code);

-- Backfill: the earliest owner of each account.
UPDATE accounts AS a
   SET billing_email = o.email
  FROM (SELECT DISTINCT ON (u.account_id) u.account_id, u.email
          FROM users AS u
         WHERE u.role = 'owner'
         ORDER BY u.account_id, u.created_at, u.id) AS o
 WHERE o.account_id = a.id
   AND a.billing_email IS NULL;

COMMENT ON COLUMN accounts.plan_code IS 'Current subscription plan';
COMMENT ON COLUMN accounts.billing_email IS 'Where invoices go; defaults to the first owner';
