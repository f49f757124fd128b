-- Money correctness (issue 11).
-- Refunds: a staff request's Idempotency-Key (same key, same body = same
-- refund) and since when WeChat's answer about it is unknown (timeout, 5xx,
-- unverifiable): such a refund stays pending/processing, is asked again and
-- is listed for staff, never failed blind.
ALTER TABLE refunds ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN unknown_since BIGINT;
CREATE UNIQUE INDEX refunds_idempotency ON refunds (shop_id, idempotency_key) WHERE idempotency_key <> '';

-- payment_events: one row per payment applied (order paid + payments row +
-- this row in one transaction), naming the order and WeChat's transaction.
ALTER TABLE payment_events ADD COLUMN order_id BIGINT REFERENCES orders(id);
ALTER TABLE payment_events ADD COLUMN transaction_id TEXT NOT NULL DEFAULT '';
ALTER TABLE payment_events ADD COLUMN amount BIGINT NOT NULL DEFAULT 0;
CREATE INDEX payment_events_order ON payment_events (shop_id, order_id);
