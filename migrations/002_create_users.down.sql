-- Undo 002_create_users.
DROP TABLE users;
DROP TYPE user_role;
