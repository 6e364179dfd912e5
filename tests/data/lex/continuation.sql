-- Where psql and the server disagree: the server continues E'x' into the
-- next line's string, in which \' is a quote; psql reads that string as
-- '\' and so ends this statement only at the second semicolon below.
-- The statement it sends holds both, and the server runs them both.
CREATE TABLE cont (id int, v text);
INSERT INTO cont VALUES (1, E'x'
'y\'z'); -- ' this quote closes what psql thinks is a string
INSERT INTO cont VALUES (2, 'still one statement for psql');
INSERT INTO cont VALUES (3, 'a'
'b');
