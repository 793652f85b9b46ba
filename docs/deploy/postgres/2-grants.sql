-- Least-privilege PostgreSQL, step 3 (see 1-roles.sql): after `arbiter migrate` as the owner,
-- and again after every upgrade that adds tables. Run in the arbiter database as a superuser.
SET ROLE arbiter_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO arbiter_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO arbiter_app;
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM arbiter_app;
REVOKE DELETE, TRUNCATE ON event_streams, event_log_head FROM arbiter_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM arbiter_app;
RESET ROLE;
