-- People who log in.  A user belongs to one account; the same e-mail
-- address may exist in two accounts.
--
-- verify: SELECT enum_range(NULL::user_role)::text = '{owner,admin,member}'

CREATE TYPE user_role AS ENUM ('owner', 'admin', 'member');
COMMENT ON TYPE user_role IS 'What a user may do inside their account';

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email          citext NOT NULL CHECK (email LIKE '%_@_%'),
    display_name   text,
    role           user_role NOT NULL DEFAULT 'member',
    last_login_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, email)
);

COMMENT ON COLUMN users.email IS 'Login name; compared without regard to case';
COMMENT ON COLUMN users.last_login_at IS 'NULL until the first login';
