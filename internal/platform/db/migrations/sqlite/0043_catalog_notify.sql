-- PostgreSQL's 0043 makes catalog writes notify the other server processes.
-- SQLite has no notifications (and one process serves it): the catalog's
-- poll is enough, so there is nothing to change here.
SELECT 1;
