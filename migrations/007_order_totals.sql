-- Order totals, computed in the database so every client agrees.
-- Both routines use SQL-standard bodies (BEGIN ATOMIC ... END, PostgreSQL
-- 14+): the body is parsed when the routine is created and its
-- dependencies are tracked, so order_items cannot be dropped under it.
--
-- verify: SELECT order_total_cents(-1) = 0
-- verify: SELECT count(*) = 0 FROM order_summaries

CREATE FUNCTION order_total_cents(p_order_id bigint) RETURNS bigint
    LANGUAGE sql
    STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(sum(oi.quantity::bigint * oi.unit_price_cents), 0)::bigint
      FROM order_items AS oi
     WHERE oi.order_id = p_order_id;
END;

COMMENT ON FUNCTION order_total_cents(bigint) IS 'Sum of quantity * unit price; 0 for an order without lines';

-- Cancel orders left pending for longer than p_max_age and put their
-- quantities back in stock.  Two statements in one atomic body; CALL it
-- from a nightly job:  CALL cancel_stale_orders('7 days');
CREATE PROCEDURE cancel_stale_orders(p_max_age interval)
    LANGUAGE sql
BEGIN ATOMIC
    UPDATE products AS p
       SET stock = p.stock + s.quantity
      FROM (SELECT oi.product_id, sum(oi.quantity) AS quantity
              FROM order_items AS oi
              JOIN orders AS o ON o.id = oi.order_id
             WHERE o.status = 'pending'
               AND o.created_at < now() - p_max_age
             GROUP BY oi.product_id) AS s
     WHERE p.id = s.product_id;
    UPDATE orders
       SET status = 'cancelled', placed_at = coalesce(placed_at, now())
     WHERE status = 'pending'
       AND created_at < now() - p_max_age;
END;

-- One row per order for the dashboard.  security_invoker (PostgreSQL 15)
-- makes the row-level security of 013 apply to readers of the view too.
CREATE VIEW order_summaries WITH (security_invoker = true) AS
SELECT o.id AS order_id,
       o.account_id,
       o.status,
       o.created_at,
       count(oi.id) AS item_count,
       order_total_cents(o.id) AS total_cents,
       o.currency
  FROM orders AS o
  LEFT JOIN order_items AS oi ON oi.order_id = o.id
 GROUP BY o.id;

COMMENT ON VIEW order_summaries IS 'Orders with their line count and total';
