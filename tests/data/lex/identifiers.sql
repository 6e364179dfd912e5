-- Quoted identifiers holding semicolons, quotes, comment starts and
-- keywords; U&"" identifiers; identifiers with dollar signs.
CREATE TABLE "semi;colon" ("a;b" int, "quote""d" text, "--dash" int, "/*star" int);
INSERT INTO "semi;colon" VALUES (1, 'x', 2, 3);
CREATE TABLE "begin" ("end" int, "case" int, "atomic" int);
INSERT INTO "begin" VALUES (1, 2, 3);
CREATE TABLE U&"t\00e9st;" (U&"c!0061l" UESCAPE '!' int);
INSERT INTO U&"t\00e9st;" VALUES (7);
CREATE TABLE dollar$table (col$1 int, a$b$c int);
INSERT INTO dollar$table VALUES (1, 2);
CREATE TABLE "MixedCase" (Id int, "Id" int);
INSERT INTO "MixedCase" VALUES (1, 2);
CREATE TABLE café (naïve int);
INSERT INTO café VALUES (42);
CREATE VIEW "v;iew" AS SELECT "a;b" AS ";", "quote""d" AS "'" FROM "semi;colon";
