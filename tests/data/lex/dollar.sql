-- Dollar quoting: empty and named tags, tags nested in other tags,
-- parameters that look like tags, and bodies full of lexer traps.
CREATE TABLE log (id serial PRIMARY KEY, msg text);

CREATE FUNCTION add_log(m text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	-- a comment with a quote ' and a semicolon;
	INSERT INTO log (msg) VALUES (m || ';');
	/* a quote ' and a semicolon ; in a block comment */
END;
$$;

CREATE FUNCTION nested() RETURNS text LANGUAGE plpgsql AS $outer$
DECLARE
	s text := $in$ $$ ; $not_end$ ; ' $in$;
BEGIN
	RETURN s || $$;$$;
END
$outer$;

CREATE FUNCTION params(int, int) RETURNS int LANGUAGE sql
AS 'SELECT $1 + $2';

CREATE FUNCTION sqlbody(a int) RETURNS int LANGUAGE sql IMMUTABLE AS $_x1$
	SELECT a * 2 -- ; $_x$ is not the end
$_x1$;

DO $do$
BEGIN
	PERFORM add_log('from do; block');
	PERFORM add_log($q$it's $$ here$q$);
END
$do$;

SELECT add_log(nested());
SELECT add_log(params(1, 2)::text || sqlbody(3)::text);
INSERT INTO log (msg) VALUES ($é$unicode tag; ok$é$), ($a$$b$;$b$$a$);
