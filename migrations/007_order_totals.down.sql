-- Undo 007_order_totals: the view uses the function, so it goes first.
DROP VIEW order_summaries;
DROP PROCEDURE cancel_stale_orders(interval);
DROP FUNCTION order_total_cents(bigint);
