-- Undo 004_updated_at_trigger: the triggers first, then their function.
DROP TRIGGER users_set_updated_at ON users;
DROP TRIGGER accounts_set_updated_at ON accounts;
DROP FUNCTION set_updated_at();
