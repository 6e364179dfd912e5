-- Accounts are the tenants of the shop: every user, product and order
-- belongs to exactly one account.
--
-- verify: SELECT to_regclass('accounts') IS NOT NULL

-- Case-insensitive text for e-mail addresses (users.email, 010's
-- accounts.billing_email).  citext is a trusted extension (PostgreSQL 13+),
-- so the migration does not need a superuser.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE
                CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE accounts IS 'Tenants: a company that sells through the shop';
COMMENT ON COLUMN accounts.slug IS 'URL name, e.g. acme in acme.example.com';
