-- The events table is append-only in the database itself: UPDATE, DELETE and TRUNCATE are
-- refused whoever asks, so a bug, a stray script or an ordinary role cannot rewrite history.
-- Only a deliberate act can get past this: the table's owner running
-- `ALTER TABLE events DISABLE TRIGGER …`, or a superuser setting session_replication_role =
-- replica. Production runs the app as a role that owns nothing (README, "Security"), so that act
-- needs the owner or a superuser -- and because those can still do it, the global chain and
-- the signed seals (docs/decisions/0007-tamper-evidence.md) exist to make it provable.
CREATE FUNCTION arbiter_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the events table is append-only: % is refused', TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'history is corrected by appending new events, never by changing stored ones';
END;
$$;

CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION arbiter_refuse_event_change();

CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION arbiter_refuse_event_change();
