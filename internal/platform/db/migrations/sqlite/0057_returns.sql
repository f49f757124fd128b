-- Returns and exchanges: an after-sales request is refund_only,
-- return_refund or exchange, on the whole order (the refund request it
-- always was) or on order lines with quantities (aftersale_lines). A return
-- goes approved → buyer_shipped → received → refunded, an exchange
-- approved → buyer_shipped → received → exchange_shipped → completed; a
-- return the buyer never ships back is closed. due_at is when the current
-- step's time limit runs out (a job then acts). Stock that comes back is
-- 'return' in the stock ledger, a replacement shipped is 'exchange'.
--
-- SQLite cannot alter a CHECK constraint: the stored CREATE TABLE text is
-- edited as 0037_order_refunded.sql does (every existing row satisfies the
-- wider lists).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(replace(sql, 'CHECK (amount > 0)', 'CHECK (amount >= 0)'),
        '''requested'',''approved'',''rejected'',''cancelled'')',
        '''requested'',''approved'',''rejected'',''cancelled'',''buyer_shipped'',''received'',''refunded'',''exchange_shipped'',''completed'',''closed'')')
    WHERE type = 'table' AND name = 'aftersales';
UPDATE sqlite_schema
    SET sql = replace(sql, '''lock'',''release'',''deduct'',''adjust'')', '''lock'',''release'',''deduct'',''adjust'',''return'',''exchange'')')
    WHERE type = 'table' AND name = 'stock_ledger';
PRAGMA writable_schema = RESET;
CREATE TABLE kaidian_schema_bump (x INTEGER);
DROP TABLE kaidian_schema_bump;

ALTER TABLE aftersales ADD COLUMN kind TEXT NOT NULL DEFAULT 'refund_only' CHECK (kind IN ('refund_only','return_refund','exchange'));
ALTER TABLE aftersales ADD COLUMN whole_order BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE aftersales ADD COLUMN reason_code TEXT NOT NULL DEFAULT 'other';
ALTER TABLE aftersales ADD COLUMN return_carrier TEXT NOT NULL DEFAULT '';
ALTER TABLE aftersales ADD COLUMN return_tracking_no TEXT NOT NULL DEFAULT '';
ALTER TABLE aftersales ADD COLUMN exchange_carrier TEXT NOT NULL DEFAULT '';
ALTER TABLE aftersales ADD COLUMN exchange_tracking_no TEXT NOT NULL DEFAULT '';
ALTER TABLE aftersales ADD COLUMN due_at INTEGER;

-- One open whole-order request per order, as before; line requests are
-- limited per line below.
DROP INDEX aftersales_open;
CREATE UNIQUE INDEX aftersales_open ON aftersales (order_id) WHERE status = 'requested' AND whole_order;

-- is_open is cleared when the request ends (rejected, cancelled, closed,
-- refunded, completed, or approved for refund_only): one open request per
-- order line.
CREATE TABLE aftersale_lines (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops(id),
    aftersale_id   INTEGER NOT NULL REFERENCES aftersales(id),
    order_line_id  INTEGER NOT NULL REFERENCES order_lines(id),
    sku_id         INTEGER NOT NULL REFERENCES skus(id),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    amount         INTEGER NOT NULL CHECK (amount >= 0),
    is_open        BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX aftersale_lines_request ON aftersale_lines (aftersale_id);
CREATE INDEX aftersale_lines_line ON aftersale_lines (order_line_id);
CREATE UNIQUE INDEX aftersale_lines_open ON aftersale_lines (order_line_id) WHERE is_open;

-- Each shop's time limits (a shop without a row has the defaults).
CREATE TABLE aftersale_settings (
    shop_id              INTEGER PRIMARY KEY REFERENCES shops(id),
    auto_confirm_days    INTEGER NOT NULL DEFAULT 10 CHECK (auto_confirm_days BETWEEN 1 AND 30),
    return_ship_days     INTEGER NOT NULL DEFAULT 7 CHECK (return_ship_days BETWEEN 1 AND 30),
    return_receive_days  INTEGER NOT NULL DEFAULT 10 CHECK (return_receive_days BETWEEN 1 AND 30),
    updated_at           INTEGER NOT NULL
);

-- The auto-confirm sweep finds shipped orders by when they shipped.
CREATE INDEX orders_auto_confirm ON orders (status, shipped_at);
