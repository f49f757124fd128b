-- Catalog changes wake the other server processes (issue 19): every
-- statement that writes products or categories sends one notification on
-- channel kaidian_catalog, inside the writing transaction, so it is
-- delivered at commit (and never for a rolled-back write). PostgreSQL folds
-- identical notifications of one transaction into one. The payload is empty:
-- a listener catches up by reading what changed (the same query as its
-- periodic poll), so a bulk import wakes it once, not once per row. A SKU
-- edit also updates its product's row. Stock movements of orders touch
-- neither table and send nothing.
CREATE FUNCTION kaidian_catalog_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kaidian_catalog', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER spus_notify AFTER INSERT OR UPDATE OR DELETE ON spus
    FOR EACH STATEMENT EXECUTE FUNCTION kaidian_catalog_notify();
CREATE TRIGGER categories_notify AFTER INSERT OR UPDATE OR DELETE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION kaidian_catalog_notify();
