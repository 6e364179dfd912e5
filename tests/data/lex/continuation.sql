-- Where psql and the server disagree: the server continues E'x' into the
-- next line's string, in which \' is a quote; psql reads that string as
-- 'y\' and so ends this statement only at the semicolon of the second
-- INSERT.  psql sends both INSERTs as one query and the server runs both.
CREATE TABLE cont (id int, v text);
INSERT INTO cont SELECT 1, E'x'
'y\'z'; -- ' this quote closes what psql thinks is a string
INSERT INTO cont SELECT 2, 'one query with the first for psql';
INSERT INTO cont VALUES (3, 'a'
'b');
