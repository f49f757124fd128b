-- A fully refunded order is 'refunded' (it was 'closed'): a closed state that
-- says what happened to the money.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
UPDATE orders SET status = 'refunded' WHERE status = 'closed';
UPDATE order_events SET from_status = 'refunded' WHERE from_status = 'closed';
UPDATE order_events SET to_status = 'refunded' WHERE to_status = 'closed';
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('pending_payment','paid','shipped','completed','cancelled','refunded'));
