-- Undo 003_create_plans.
DROP TABLE plans;
