-- psql never ends a statement inside parentheses: a rule's action list
-- holds several statements separated by semicolons.
CREATE TABLE items (id int PRIMARY KEY, name text);
CREATE TABLE items_log (id int, action text);

CREATE RULE items_ins AS ON INSERT TO items DO ALSO (
	INSERT INTO items_log VALUES (NEW.id, 'insert;');
	INSERT INTO items_log VALUES (NEW.id, 'second action');
);

CREATE RULE items_del AS ON DELETE TO items DO INSTEAD (
	UPDATE items SET name = name || ' (deleted)' WHERE id = OLD.id;
	INSERT INTO items_log VALUES (OLD.id, 'delete; kept')
);

INSERT INTO items VALUES (1, 'a'), (2, 'b;');
DELETE FROM items WHERE id = 2;
SELECT (1), ((2)), (SELECT (3));
