-- SQL-standard function bodies: psql keeps BEGIN ATOMIC ... END together
-- after CREATE [OR REPLACE] FUNCTION/PROCEDURE, counting CASE ... END.
CREATE TABLE audit (id int, what text);

CREATE FUNCTION sign_word(n int) RETURNS text LANGUAGE sql
BEGIN ATOMIC
	SELECT CASE
		WHEN n > 0 THEN 'positive;'
		WHEN n < 0 THEN CASE WHEN n < -100 THEN 'very negative' ELSE 'negative' END
		ELSE 'zero'
	END;
END;

CREATE OR REPLACE PROCEDURE note(i int, w text) LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO audit VALUES (i, w);
	INSERT INTO audit VALUES (i + 100, (SELECT CASE WHEN w = '' THEN 'empty' END));
	DELETE FROM audit WHERE id = -1;
END;

create or replace function twice(a int) returns int language sql immutable
begin atomic
	select a * 2;
end;

-- A body that is one RETURN: no BEGIN, so CASE ... END does not nest.
CREATE FUNCTION pick(b bool) RETURNS text LANGUAGE sql
RETURN CASE WHEN b THEN 'yes' ELSE 'no' END;

-- BEGIN and END as quoted names or parts of names do not count.
CREATE FUNCTION "begin"(x int) RETURNS int LANGUAGE sql RETURN x + 1;
CREATE FUNCTION begin_end_x(x int) RETURNS int LANGUAGE sql
BEGIN ATOMIC SELECT "begin"(x) + 1; END;

CALL note(1, 'one; two');
CALL note(2, '');
INSERT INTO audit VALUES (3, sign_word(-5)), (4, sign_word(0)), (5, sign_word(-500));
INSERT INTO audit VALUES (6, pick(true)), (7, twice(21)::text), (8, begin_end_x(1)::text);
