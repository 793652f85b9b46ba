-- A leaner append (docs/decisions/0013-speed.md), and the engine's fence (decision 0011). Same
-- contract as 007's arbiter_append: gap-free positions under the head-row lock, idempotency by
-- event id, expected revision, the stream and global hash chains; the contract suite (test/contract) holds it to that unchanged. What changes:
--   * each request's events go in with one INSERT … SELECT (the hashes are computed first, in
--     order, into arrays: the chains are sequential, the insert is not), not one INSERT per event;
--   * the idempotency lookup is one statement, a nested loop of index probes by event_id (an
--     OFFSET 0 lateral keeps it from ever being planned as a join over the whole table, the
--     generic-plan trap 005 fixed with one lookup per event);
--   * stream heads are kept in memory through the group and written with one upsert per group
--     (a later request of the same group for the same stream sees the earlier one's head);
--   * the log head is updated once per group, and not at all when nothing was written; one NOTIFY;
--   * an index no query uses is dropped (below): one index write and its WAL fewer per event.
--
-- Indexes on events after this migration, each with the queries that use it:
--   events_pkey (global_position)            readAll pages and windows, subscriptions, verify, the
--                                            duplicate answer's position
--   events_event_id_key (event_id)           the idempotency lookup in arbiter_append
--   events_stream_id_stream_revision_key     readStream (forward, backward, from a revision), the
--                                            duplicate check; and it makes a second event at one
--                                            stream revision impossible whatever the function does
--   events_type_position (event_type, global_position)
--                                            typed reads (readAll with event types, in windows of
--                                            positions): with it a window reads only the matching
--                                            rows, without it every row of the window (checked with
--                                            EXPLAIN: the planner takes it for sparse types) -- the
--                                            followers of engine and screening state, webhook
--                                            workers, a rebuild of one projection
-- Dropped:
--   events_recorded_at (recorded_at): no query filters or orders events by time; point-in-time
--     questions turn a time into a position by a binary search over positions (decision 0016).
DROP INDEX IF EXISTS events_recorded_at;

CREATE OR REPLACE FUNCTION arbiter_append(requests jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  req        jsonb;
  results    jsonb := '[]'::jsonb;
  head       bigint;
  head0      bigint;
  log_prev   text;
  cur_rev    bigint;
  cur_hash   text;
  expected   text;
  n          integer;
  found_n    integer;
  first_rev  bigint;
  first_sid  text;
  contents   text[];
  hashes     text[];
  prevs      text[];
  log_hashes text[];
  h          text;
  i          integer;
  -- Stream heads written by this group so far: { stream: { "rev", "hash", "pos" } }.
  heads      jsonb := '{}'::jsonb;
  genesis    constant text := repeat('0', 64);
  fence_rev  bigint;
BEGIN
  -- The head row lock is held until COMMIT: appends are serialised, so positions become
  -- visible strictly in order and a reader can never pass over a later-committing event.
  -- The same row holds the global chain's head hash (007).
  SELECT position, last_hash INTO head, log_prev FROM event_log_head WHERE id = 1 FOR UPDATE;
  head0 := head;

  FOR req IN SELECT value FROM jsonb_array_elements(requests) LOOP
    n := jsonb_array_length(req->'events');

    -- Idempotency: the same event ids appended again to the same stream, in the same order.
    SELECT count(*), min(f.stream_revision), min(f.stream_id)
      INTO found_n, first_rev, first_sid
      FROM jsonb_array_elements(req->'events') x
     CROSS JOIN LATERAL (SELECT e.stream_revision, e.stream_id FROM events e
                          WHERE e.event_id = (x.value->>'id')::uuid OFFSET 0) f;
    IF found_n > 0 THEN
      IF found_n = n AND first_sid = req->>'stream' AND (
           SELECT count(*) FROM jsonb_array_elements(req->'events') WITH ORDINALITY AS x(v, i)
             JOIN events e ON e.event_id = (x.v->>'id')::uuid
            WHERE e.stream_id = req->>'stream' AND e.stream_revision = first_rev + x.i - 1) = n THEN
        results := results || jsonb_build_array(jsonb_build_object(
          'status', 'duplicate',
          'nextRevision', (first_rev + n - 1)::text,
          'position', (SELECT max(global_position) FROM events
                        WHERE stream_id = req->>'stream'
                          AND stream_revision BETWEEN first_rev AND first_rev + n - 1)::text));
      ELSE
        results := results || jsonb_build_array(jsonb_build_object(
          'status', 'idempotency_conflict', 'found', found_n, 'stream', first_sid));
      END IF;
      CONTINUE;
    END IF;

    -- The engine's fence (decision 0011): a request carrying "fence": {"stream", "revision"} is written only while
    -- the fence stream is still at that revision (the engine's leadership token), judged under
    -- the head lock and after any earlier request of this group; otherwise it is answered
    -- {"status": "fenced", "actual": …} and writes nothing.
    IF req ? 'fence' AND jsonb_typeof(req->'fence') = 'object' THEN
      IF heads ? (req->'fence'->>'stream') THEN
        fence_rev := (heads->(req->'fence'->>'stream')->>'rev')::bigint;
      ELSE
        SELECT revision INTO fence_rev FROM event_streams WHERE stream_id = req->'fence'->>'stream';
        IF NOT FOUND THEN
          fence_rev := -1;
        END IF;
      END IF;
      IF fence_rev <> (req->'fence'->>'revision')::bigint THEN
        results := results || jsonb_build_array(jsonb_build_object('status', 'fenced', 'actual', fence_rev::text));
        CONTINUE;
      END IF;
    END IF;

    IF heads ? (req->>'stream') THEN
      cur_rev := (heads->(req->>'stream')->>'rev')::bigint;
      cur_hash := heads->(req->>'stream')->>'hash';
    ELSE
      SELECT revision, last_hash INTO cur_rev, cur_hash FROM event_streams WHERE stream_id = req->>'stream';
      IF NOT FOUND THEN
        cur_rev := -1;
        cur_hash := genesis;
      END IF;
    END IF;

    expected := req->>'expected';
    IF (expected = 'no_stream' AND cur_rev <> -1)
       OR (expected = 'exists' AND cur_rev = -1)
       OR (expected NOT IN ('any', 'no_stream', 'exists') AND expected::bigint <> cur_rev) THEN
      results := results || jsonb_build_array(jsonb_build_object(
        'status', 'wrong_expected_revision', 'actual', cur_rev::text));
      CONTINUE;
    END IF;

    -- The chains, in order: stream hash = sha256(prev|revision|contentHash), global
    -- log_hash = sha256(prev log_hash|position|hash). Expressions only, no statement per event.
    contents := ARRAY(SELECT x.v->>'contentHash' FROM jsonb_array_elements(req->'events') WITH ORDINALITY AS x(v, i) ORDER BY x.i);
    hashes := '{}';
    prevs := '{}';
    log_hashes := '{}';
    FOR i IN 1..n LOOP
      h := encode(sha256(convert_to(cur_hash || '|' || (cur_rev + i)::text || '|' || contents[i], 'UTF8')), 'hex');
      prevs := prevs || cur_hash;
      hashes := hashes || h;
      log_prev := encode(sha256(convert_to(log_prev || '|' || (head + i)::text || '|' || h, 'UTF8')), 'hex');
      log_hashes := log_hashes || log_prev;
      cur_hash := h;
    END LOOP;

    INSERT INTO events (global_position, stream_id, stream_revision, event_id, event_type, schema_version,
                        recorded_at, correlation_id, causation_id, actor, tenant, payload,
                        content_hash, prev_hash, hash, log_hash)
    SELECT head + x.i, req->>'stream', cur_rev + x.i, (x.v->>'id')::uuid, x.v->>'type', (x.v->>'version')::integer,
           (x.v->>'recordedAt')::timestamptz, x.v->>'correlationId', x.v->>'causationId', x.v->>'actor',
           x.v->>'tenant', x.v->'payload', x.v->>'contentHash', prevs[x.i], hashes[x.i], log_hashes[x.i]
      FROM jsonb_array_elements(req->'events') WITH ORDINALITY AS x(v, i);

    head := head + n;
    cur_rev := cur_rev + n;
    heads := heads || jsonb_build_object(req->>'stream', jsonb_build_object('rev', cur_rev::text, 'hash', cur_hash, 'pos', head::text));
    results := results || jsonb_build_array(jsonb_build_object(
      'status', 'ok', 'nextRevision', cur_rev::text, 'position', head::text));
  END LOOP;

  IF head > head0 THEN
    INSERT INTO event_streams (stream_id, revision, last_hash, last_position)
    SELECT s.key, (s.value->>'rev')::bigint, s.value->>'hash', (s.value->>'pos')::bigint FROM jsonb_each(heads) s
    ON CONFLICT (stream_id) DO UPDATE
      SET revision = EXCLUDED.revision, last_hash = EXCLUDED.last_hash, last_position = EXCLUDED.last_position;
    UPDATE event_log_head SET position = head, last_hash = log_prev WHERE id = 1;
    PERFORM pg_notify('arbiter_events', head::text);
  END IF;
  RETURN results;
END;
$$;
