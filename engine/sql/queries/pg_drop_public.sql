-- pg_drop_public: PostgreSQL's own SQL (run natively on the server, not through DuckDB): drop every view,
-- table and sequence of the public schema, so `riskmap demo` rebuilds the demo on an empty schema. The
-- schema itself, its owner and its grants stay; `riskmap init` (the first step of the build) recreates
-- the tables through the migrations and grants riskmap_reader reading of them again.
DO $drop$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT viewname AS name FROM pg_views WHERE schemaname = 'public' LOOP
        EXECUTE format('DROP VIEW IF EXISTS public.%I CASCADE', item.name);
    END LOOP;
    FOR item IN SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' LOOP
        EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', item.name);
    END LOOP;
    FOR item IN SELECT sequencename AS name FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('DROP SEQUENCE IF EXISTS public.%I CASCADE', item.name);
    END LOOP;
END
$drop$;
