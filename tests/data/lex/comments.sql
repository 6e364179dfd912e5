/* A file that starts with a block comment; it holds a ; too. */
-- And a line comment; with a semicolon.
CREATE TABLE c (id int, note text);
/* nested /* comments /* three deep; */ still; */ inside; */
INSERT INTO c VALUES (1, 'one'); /* trailing; */ INSERT INTO c VALUES (2, 'two');
INSERT INTO c VALUES (3, -- a comment inside a statement;
	'three');
INSERT INTO c /* between tokens; */ VALUES (4, 'four' /* ; */);
INSERT INTO c VALUES (5 +-- an operator then a comment start;
	1, 'six');
INSERT INTO c VALUES (2 */* a star then a comment */ 4, 'eight');
INSERT INTO c VALUES (9, '/* not a comment */ -- nor this');
/**/INSERT INTO c VALUES (10, '');/*/ still a comment ; */
INSERT INTO c VALUES (11, 'x') -- the semicolon comes later
;
-- last line is a comment without a newline; ...