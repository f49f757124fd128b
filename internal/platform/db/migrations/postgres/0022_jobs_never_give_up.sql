-- Jobs that must never give up (issue 11): auto-cancel of unpaid orders,
-- refund submission and refund queries run until WeChat answers. Queued
-- ones get (practically) unlimited attempts; failed ones whose work is
-- still open are queued again.
UPDATE jobs SET max_attempts = 1073741824
    WHERE kind IN ('order.auto_cancel', 'refund.submit', 'refund.query') AND state IN ('queued', 'running');

UPDATE jobs SET state = 'queued', max_attempts = 1073741824, run_at = 0, finished_at = NULL
    WHERE kind = 'order.auto_cancel' AND state = 'failed'
    AND unique_key IN (SELECT 'order-cancel:' || CAST(id AS TEXT) FROM orders WHERE status = 'pending_payment')
    AND NOT EXISTS (SELECT 1 FROM jobs j2 WHERE j2.unique_key = jobs.unique_key AND j2.state IN ('queued', 'running'))
    AND id IN (SELECT MAX(id) FROM jobs WHERE kind = 'order.auto_cancel' AND state = 'failed' GROUP BY unique_key);

UPDATE jobs SET state = 'queued', max_attempts = 1073741824, run_at = 0, finished_at = NULL
    WHERE kind = 'refund.submit' AND state = 'failed'
    AND unique_key IN (SELECT 'refund-submit:' || CAST(id AS TEXT) FROM refunds WHERE status = 'pending')
    AND NOT EXISTS (SELECT 1 FROM jobs j2 WHERE j2.unique_key = jobs.unique_key AND j2.state IN ('queued', 'running'))
    AND id IN (SELECT MAX(id) FROM jobs WHERE kind = 'refund.submit' AND state = 'failed' GROUP BY unique_key);

UPDATE jobs SET state = 'queued', max_attempts = 1073741824, run_at = 0, finished_at = NULL
    WHERE kind = 'refund.query' AND state = 'failed'
    AND unique_key IN (SELECT 'refund-query:' || CAST(id AS TEXT) FROM refunds WHERE status IN ('processing', 'abnormal'))
    AND NOT EXISTS (SELECT 1 FROM jobs j2 WHERE j2.unique_key = jobs.unique_key AND j2.state IN ('queued', 'running'))
    AND id IN (SELECT MAX(id) FROM jobs WHERE kind = 'refund.query' AND state = 'failed' GROUP BY unique_key);
