--liquibase formatted sql

--changeset alice:create-users
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO users VALUES (1, 'first --changeset x:y is no marker after SQL');
--rollback DROP TABLE users;

--changeset alice:users-name-idx runInTransaction:false
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);
--rollback DROP INDEX CONCURRENTLY IF EXISTS users_name_idx;

--changeset bob:oracle-only dbms:oracle
CREATE TABLE dual_thing (x int);

--changeset bob:skipped ignore:true
CREATE TABLE never (x int);
