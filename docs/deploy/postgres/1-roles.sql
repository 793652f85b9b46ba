-- Least-privilege PostgreSQL for production, step 1 of 3 (README, "Security"). As a superuser:
--   psql -v ON_ERROR_STOP=1 -f 1-roles.sql
-- Step 2: apply migrations as the owner:
--   DATABASE_URL=postgres://arbiter_owner@HOST/arbiter arbiter migrate
-- Step 3: psql -v ON_ERROR_STOP=1 -d arbiter -f 2-grants.sql (again after each upgrade).
-- The app then connects as arbiter_app, which owns none of the event tables: it can INSERT
-- events (through arbiter_append) but never UPDATE, DELETE or TRUNCATE them, and it cannot
-- switch the append-only trigger off (only the owner or a superuser can). Give both roles
-- passwords (ALTER ROLE … PASSWORD) or certificate logins; log in as arbiter_owner only to migrate.
CREATE ROLE arbiter_owner LOGIN;
CREATE ROLE arbiter_app LOGIN;
CREATE DATABASE arbiter OWNER arbiter_owner;
\connect arbiter
ALTER SCHEMA public OWNER TO arbiter_owner;
-- Projection generations are schemas of their own, with views in public, made at run time.
GRANT CREATE, CONNECT ON DATABASE arbiter TO arbiter_app;
GRANT USAGE, CREATE ON SCHEMA public TO arbiter_app;
