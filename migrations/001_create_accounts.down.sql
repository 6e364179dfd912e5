-- Undo 001_create_accounts.
DROP TABLE accounts;
DROP EXTENSION IF EXISTS citext;
