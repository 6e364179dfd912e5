-- Subscription plans: a small reference table, seeded with COPY as
-- pg_dump writes it (tab-separated columns, \N for NULL, ended by \.).
--
-- verify: SELECT count(*) = 3 FROM plans
-- verify: SELECT max_users IS NULL FROM plans WHERE code = 'enterprise'

CREATE TABLE plans (
    code                 text PRIMARY KEY CHECK (code ~ '^[a-z]+$'),
    name                 text NOT NULL,
    rank                 smallint NOT NULL UNIQUE,
    monthly_price_cents  integer NOT NULL CHECK (monthly_price_cents >= 0),
    max_users            integer CHECK (max_users > 0),
    description          text NOT NULL DEFAULT ''
);

COMMENT ON TABLE plans IS 'Subscription plans; rank orders them from cheapest up';
COMMENT ON COLUMN plans.max_users IS 'NULL means unlimited';

COPY plans (code, name, rank, monthly_price_cents, max_users, description) FROM stdin;
free	Free	0	0	3	For trying things out
pro	Pro	1	2900	25	For growing teams
enterprise	Enterprise	2	49900	\N	Unlimited users, SSO and audit export
\.

-- Keep the table analysed: the planner sees three rows, not the default guess.
ANALYZE plans;
