\set ON_ERROR_STOP on
-- Empty statements, several statements on a line, a statement over many
-- lines, and a psql meta-command after a statement on its line.
;;
CREATE TABLE s (id int);;; INSERT INTO s VALUES (1); INSERT INTO s VALUES (2);
;
INSERT
INTO
s
VALUES
(
3
)
;
INSERT INTO s VALUES (4); \set ON_ERROR_STOP 1
/* only a comment, then a semicolon */ ;
INSERT INTO s VALUES (5)
