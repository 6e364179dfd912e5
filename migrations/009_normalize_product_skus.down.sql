-- Normalized SKUs stay as they are: the original spelling was not kept,
-- and the schema is the same before and after 009.  Rolling back past 009
-- therefore only removes its history row.
DO $keep$
BEGIN
	RAISE NOTICE 'SKUs stay normalized: 009 cannot restore their old spelling';
END
$keep$;
