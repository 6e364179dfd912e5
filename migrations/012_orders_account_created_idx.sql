-- pgbundle:no-transaction
--
-- The order list ("my orders, newest first") scans orders by account.
-- CREATE INDEX CONCURRENTLY does not block writes to orders while it
-- builds, but it cannot run inside a transaction block, so it sits alone
-- in a migration that runs without one.  IF NOT EXISTS makes a re-run
-- after an interruption safe; the verify query catches the case where an
-- interrupted build left an INVALID index behind (drop it and re-run).
--
-- verify: SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('orders_account_created_idx')), false)

CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_created_idx
    ON orders (account_id, created_at DESC);
