CREATE TABLE t (a int, b text)
;
INSERT INTO t VALUES (1, $$no final newline;$$);
INSERT INTO t
  VALUES (2, 'and no semicolon')
  -- only a comment after it