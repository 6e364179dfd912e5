-- Every string literal form, each hiding semicolons, comment starts and
-- dollar signs that must not end or open anything.
CREATE TABLE strs (id int PRIMARY KEY, v text);

INSERT INTO strs VALUES (1, 'plain; with a semicolon');
INSERT INTO strs VALUES (2, 'it''s; doubled '' quotes'''), (3, '');
-- standard_conforming_strings: a backslash is just a backslash
INSERT INTO strs VALUES (4, 'back\'); INSERT INTO strs VALUES (5, '\\;\n');
INSERT INTO strs VALUES (6, E'escaped \' quote; and \\ backslash');
INSERT INTO strs VALUES (7, e'tab\there\nnewline \x41\101\u00e9 \'');
INSERT INTO strs VALUES (8, E'doubled '' too; \\'';');
INSERT INTO strs VALUES (9, U&'d\0061t\+000061; caf\00e9');
INSERT INTO strs VALUES (10, U&'d!0061t!!;' UESCAPE '!');
INSERT INTO strs VALUES (11, 'comment -- not; /* not either */ $$ nor $x$');
INSERT INTO strs VALUES (12, 'multi
line; string
\.
ends here');
INSERT INTO strs VALUES (13, E'multi\
line \\
escaped;');
INSERT INTO strs VALUES (14, N'national; string');
INSERT INTO strs VALUES (15, 'adjacent; '
  'literals; ' -- a comment between them is allowed
  'join');
INSERT INTO strs VALUES (16, B'1010'::text), (17, X'1f'::text), (23, b''::text);
INSERT INTO strs VALUES (18, 'x' || E'\\' || 'y;'), (19, $$dollar 'quoted'; text$$);
INSERT INTO strs VALUES (20, ';'); INSERT INTO strs VALUES (21, ''';'''); INSERT INTO strs VALUES (22, 'a"b;"c')
;
