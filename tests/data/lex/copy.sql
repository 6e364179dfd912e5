-- COPY ... FROM stdin data blocks as pg_dump writes them, and some it
-- does not: data that looks like SQL, CSV with quoted newlines, an empty
-- block, and a statement after the COPY on its own line.
CREATE TABLE people (id int, name text, note text);
CREATE TABLE pairs (k text, v text);

COPY people (id, name, note) FROM stdin;
1	Ann	plain
2	Bob	back\\slash and tab\there
3	\N	null name
4	semi;colon	'quote' "dq" $$ /* -- 
5	Ünïcödé	\x41\101\n
\.

copy PEOPLE from STDIN;
\.
COPY pairs FROM stdin WITH (FORMAT csv, HEADER true);
k,v
a,"multi
line; value"
b,"comma, ""quoted"""
"\.x",ok
\.
COPY pairs (k, v) FROM stdin WITH CSV; INSERT INTO pairs VALUES ('after', 'copy line');
c,d
\.
INSERT INTO pairs VALUES ('end', $$\.$$);
-- The server takes FROM stdout as FROM stdin: psql sends the data too.
COPY pairs FROM STDOUT;
stdout	from
\.
COPY people (id, name) FROM stdin;
6	last line before the end marker
\.
