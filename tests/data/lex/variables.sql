-- psql variables.  psql replaces ":name" only when the variable is
-- defined, and the only ones a migration can see are psql's built-in
-- ones, which pgbundle refuses: every ':' below is sent as written, by
-- psql and by pgapply alike.
CREATE TABLE v (id int, a int[], t text);
INSERT INTO v SELECT 1, (ARRAY[10,20,30])[2:n], 'slice' FROM (SELECT 3 AS n) s;
INSERT INTO v SELECT 2, (ARRAY[10,20,30])[1:dbname], 'dbname is not DBNAME'
	FROM (SELECT 2 AS dbname) s;
INSERT INTO v VALUES (3, ARRAY['7'::int, 8::int, (9)::int],
	':PORT :''DBNAME'' :"USER" :{?HOST}');
INSERT INTO v VALUES (4, (ARRAY[1,2,3])[2:3], $$:PORT :'DBNAME' :"USER"$$); -- :PORT :'DBNAME'
/* :VERSION :"USER" /* :{?PORT} */ */
INSERT INTO v VALUES (5, NULL, E':PORT\':'''), (6, NULL, U&':PORT'),
	(7, NULL, (SELECT ":HOST" FROM (SELECT 'h' AS ":HOST") s));
INSERT INTO v VALUES (8, (ARRAY[1,2,3])[:2], 'no lower bound'),
	(9, (ARRAY[1,2,3])[2:], 'no upper bound');
CREATE FUNCTION first_n(a int[], n int) RETURNS int[] LANGUAGE sql
BEGIN ATOMIC
	SELECT a[1:n];
END;
INSERT INTO v VALUES (10, first_n(ARRAY[4,5,6], 2), 'BEGIN ATOMIC body');
-- psql ends the variable at '$': "$a$" opens a dollar quote that the
-- alias closes, and the server sees the identifier n$a$ twice.
INSERT INTO v SELECT 11, (ARRAY[1,2,3])[1:n$a$], 'x' FROM (SELECT 2 AS n$a$) s;
