-- Operators and numbers next to comment starts, casts, named arguments,
-- and parameters that look like dollar quotes.
CREATE TABLE n (id int, v numeric, t text);
INSERT INTO n VALUES (1, 2 - -1, '-' || '-');
INSERT INTO n VALUES (2, 10 --1 is a comment, so this is 10
	, 'x');
INSERT INTO n VALUES (3, 6 /2/* comment */, 'y');
INSERT INTO n VALUES (4, '42'::int+-1, 'cast');
INSERT INTO n VALUES (5, 1.5e3 + .5 + 1.e1 + 2E-1, 'numbers');
INSERT INTO n VALUES (6, abs(-7) % 4 + 2 ^ 2, 'ops');
INSERT INTO n VALUES (7, (SELECT count(*) FROM generate_series(1,3)), 'sub');
CREATE FUNCTION named(a int, b int DEFAULT 0) RETURNS int LANGUAGE sql
AS $$ SELECT $1 * 10 + $2 $$;
INSERT INTO n VALUES (8, named(a := 1, b => 2), 'named');
INSERT INTO n SELECT 9, x, y FROM (VALUES (1, 'a$b'), (2, '$1')) AS v(x, y) WHERE x = 2;
INSERT INTO n VALUES (10, (ARRAY[1,2,3])[2], ((ARRAY[1,2,3])[2:3])::text);
INSERT INTO n VALUES (11, (3!=4)::int, '<>'), (12, (5>=-1)::int, '>=');
PREPARE ins(int, text) AS INSERT INTO n VALUES ($1, $1*2, $2||$a$;$a$);
EXECUTE ins(13, $t$;$t$);
DEALLOCATE ins;
