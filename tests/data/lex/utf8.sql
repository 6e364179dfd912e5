-- Multibyte text in every place the lexer looks: identifiers start and
-- continue with bytes >= 0x80, dollar tags may hold them, and strings,
-- comments and COPY data carry them untouched.  /* ünïcödé; */
CREATE TABLE ñandú («id» int, 名前 text, "ключ;" text);
INSERT INTO ñandú VALUES (1, '日本語; テキスト', $ÿ$ünïcödé; $$ $ÿ$);
INSERT INTO ñandú VALUES (2, E'\u00e9\U0001F418', U&'\00e9\+01F418'); -- 🐘;
COPY ñandú FROM stdin;
3	emoji 🐘; ok	Ωμέγα
\.
CREATE VIEW vista_é AS SELECT «id», 名前 AS "名前;" FROM ñandú;
