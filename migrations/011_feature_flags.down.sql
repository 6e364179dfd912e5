-- Undo 011_feature_flags.
DROP FUNCTION feature_enabled(bigint, text);
DROP TABLE account_feature_flags;
DROP TABLE feature_flags;
