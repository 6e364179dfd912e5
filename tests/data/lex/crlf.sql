-- Windows line endings throughout: every line ends in CR LF, inside
-- strings, comments, dollar quotes and COPY data (whose "\." ends in CR).
CREATE TABLE w (id int, v text);
INSERT INTO w VALUES (1, 'two
lines; kept with their CR');
/* a block
   comment; */ INSERT INTO w VALUES (2, $$dollar
body;$$); -- trailing comment
COPY w (id, v) FROM stdin;
3	copy row
4	\N
\.
CREATE FUNCTION wf() RETURNS int LANGUAGE sql
BEGIN ATOMIC
	SELECT 5;
END;
INSERT INTO w VALUES (wf(), E'e\r\nstring')
;
