-- Refunds failed blind (issue 11): versions before this one marked a refund
-- failed, and released its amount, when WeChat's answer could not be
-- verified or after eight tries. Each refund failed so far is asked about
-- once more by a job (refund.recheck) that applies WeChat's verified answer:
-- a refund that did go out counts again (and alarms); one WeChat never made
-- stays failed.
INSERT INTO jobs (kind, shop_id, payload, unique_key, max_attempts, run_at, created_at)
SELECT 'refund.recheck', shop_id, '{"refund_id":' || CAST(id AS TEXT) || '}', 'refund-recheck:' || CAST(id AS TEXT),
       1073741824, 0, 0
FROM refunds WHERE status = 'failed';
