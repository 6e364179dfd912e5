-- Undo 010_account_plan_and_billing_email (the index goes with its column).
ALTER TABLE accounts DROP COLUMN billing_email;
ALTER TABLE accounts DROP COLUMN plan_code;
