-- A fully refunded order is 'refunded' (it was 'closed'): a closed state that
-- says what happened to the money.
--
-- SQLite cannot alter a CHECK constraint, and rebuilding orders would have to
-- list its columns (losing any another migration added) and drop a table
-- that many others reference. The status list in the stored CREATE TABLE is
-- edited instead (SQLite's documented writable_schema procedure; every
-- existing row satisfies the new list once 'closed' rows are renamed):
-- RESET reloads this connection's schema, and the throwaway table bumps the
-- schema cookie so every other connection reloads it too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(sql, '''completed'',''cancelled'',''closed'')', '''completed'',''cancelled'',''closed'',''refunded'')')
    WHERE type = 'table' AND name = 'orders';
PRAGMA writable_schema = RESET;
CREATE TABLE kaidian_schema_bump (x INTEGER);
DROP TABLE kaidian_schema_bump;
UPDATE orders SET status = 'refunded' WHERE status = 'closed';
UPDATE order_events SET from_status = 'refunded' WHERE from_status = 'closed';
UPDATE order_events SET to_status = 'refunded' WHERE to_status = 'closed';
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(sql, '''completed'',''cancelled'',''closed'',''refunded'')', '''completed'',''cancelled'',''refunded'')')
    WHERE type = 'table' AND name = 'orders';
PRAGMA writable_schema = RESET;
CREATE TABLE kaidian_schema_bump (x INTEGER);
DROP TABLE kaidian_schema_bump;
