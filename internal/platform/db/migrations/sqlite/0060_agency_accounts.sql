-- Agency logins (issue 12): an 'agency' account belongs to no shop (like an
-- operator) and acts only on the shops granted to it in account_shops, with
-- the role given there; operators grant and revoke, and each change is kept
-- in account_shop_events.
--
-- The accounts CHECKs are edited in the stored CREATE TABLE, as in
-- 0037_order_refunded (SQLite cannot alter a CHECK; every existing row
-- satisfies the wider rules).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(replace(sql, '''operator'',''owner'',''operations'',''service'',''finance'')',
                                   '''operator'',''owner'',''operations'',''service'',''finance'',''agency'')'),
                      '(role = ''operator'') = (shop_id IS NULL)', '(role IN (''operator'',''agency'')) = (shop_id IS NULL)')
    WHERE type = 'table' AND name = 'accounts';
PRAGMA writable_schema = RESET;
CREATE TABLE kaidian_schema_bump (x INTEGER);
DROP TABLE kaidian_schema_bump;

CREATE TABLE account_shops (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    role        TEXT    NOT NULL CHECK (role IN ('owner','operations','service','finance')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, shop_id)
);
CREATE INDEX account_shops_shop ON account_shops (shop_id);

CREATE TABLE account_shop_events (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    shop_id     INTEGER NOT NULL REFERENCES shops(id),
    action      TEXT    NOT NULL CHECK (action IN ('grant','revoke')),
    role        TEXT    NOT NULL DEFAULT '',
    actor_id    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX account_shop_events_account ON account_shop_events (account_id, id);
