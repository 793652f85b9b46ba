-- High availability (docs/decisions/0011-engine-high-availability.md): the engine lease and the
-- fence that every engine append carries.
--
-- engine_lease: one row, judged on the database's clock (now()), never a node's. A standby takes
-- it when it has expired (epoch + 1); the holder renews it before it does. Two nodes can both
-- believe they lead for at most the margin a node keeps (ENGINE_LEASE_MARGIN_MS) plus clock rate
-- drift: the fence below is what makes that harmless.
CREATE TABLE engine_lease (
  id         integer PRIMARY KEY CHECK (id = 1),
  holder     text        NOT NULL,
  epoch      bigint      NOT NULL,
  expires_at timestamptz NOT NULL
);
INSERT INTO engine_lease (id, holder, epoch, expires_at) VALUES (1, '', 0, '-infinity');

-- arbiter_append as in 007, plus the fence (the lines marked 019). A request may carry
-- "fence": {"stream": …, "revision": "…"}; a request whose fence no longer holds gets
-- {"status": "fenced", "actual": "<the fence stream's revision>"} and writes nothing.
CREATE OR REPLACE FUNCTION arbiter_append(requests jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  req        jsonb;
  ev         jsonb;
  results    jsonb := '[]'::jsonb;
  head       bigint;
  cur_rev    bigint;
  cur_hash   text;
  expected   text;
  n          integer;
  found_n    integer;
  first_rev  bigint;
  first_sid  text;
  h          text;
  ord        integer;
  h_rev      bigint;
  h_sid      text;
  genesis    constant text := repeat('0', 64);
  -- 007: the global chain, carried across every request of the group.
  log_prev   text;
  log_h      text;
  -- 019: the fence's stream head.
  fence_rev  bigint;
BEGIN
  -- The head row lock is held until COMMIT: appends are serialised, so positions become
  -- visible strictly in order and a reader can never pass over a later-committing event.
  -- 007: the same row also holds the global chain's head hash (log_prev).
  SELECT position, last_hash INTO head, log_prev FROM event_log_head WHERE id = 1 FOR UPDATE;

  FOR req IN SELECT value FROM jsonb_array_elements(requests) LOOP
    n := jsonb_array_length(req->'events');

    -- Idempotency: the same event ids appended again to the same stream, in the same order.
    -- One equality lookup per id: its cached plan is an index scan whatever the size of the log.
    found_n := 0;
    first_rev := NULL;
    first_sid := NULL;
    FOR ev IN SELECT value FROM jsonb_array_elements(req->'events') LOOP
      SELECT e.stream_revision, e.stream_id INTO h_rev, h_sid FROM events e WHERE e.event_id = (ev->>'id')::uuid;
      IF FOUND THEN
        found_n := found_n + 1;
        first_rev := least(first_rev, h_rev);
        first_sid := coalesce(first_sid, h_sid);
      END IF;
    END LOOP;
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

    -- 019: a check-only fence, under the head lock like everything else here: the request is
    -- written only while the fence stream is still at the given revision (the engine's token:
    -- the revision of its EngineLeadershipAcquired in `engine-leader`). A deposed leader's late
    -- append sees a newer leader's event there and is refused, nothing written.
    IF req ? 'fence' AND jsonb_typeof(req->'fence') = 'object' THEN
      SELECT revision INTO fence_rev FROM event_streams WHERE stream_id = req->'fence'->>'stream';
      IF NOT FOUND THEN
        fence_rev := -1;
      END IF;
      IF fence_rev <> (req->'fence'->>'revision')::bigint THEN
        results := results || jsonb_build_array(jsonb_build_object(
          'status', 'fenced', 'actual', fence_rev::text));
        CONTINUE;
      END IF;
    END IF;

    SELECT revision, last_hash INTO cur_rev, cur_hash FROM event_streams WHERE stream_id = req->>'stream';
    IF NOT FOUND THEN
      cur_rev := -1;
      cur_hash := genesis;
    END IF;

    expected := req->>'expected';
    IF (expected = 'no_stream' AND cur_rev <> -1)
       OR (expected = 'exists' AND cur_rev = -1)
       OR (expected NOT IN ('any', 'no_stream', 'exists') AND expected::bigint <> cur_rev) THEN
      results := results || jsonb_build_array(jsonb_build_object(
        'status', 'wrong_expected_revision', 'actual', cur_rev::text));
      CONTINUE;
    END IF;

    ord := 0;
    FOR ev IN SELECT value FROM jsonb_array_elements(req->'events') LOOP
      ord := ord + 1;
      head := head + 1;
      cur_rev := cur_rev + 1;
      h := encode(sha256(convert_to(cur_hash || '|' || cur_rev::text || '|' || (ev->>'contentHash'), 'UTF8')), 'hex');
      -- 007: the global chain step, over the event's stream chain hash (which covers its content,
      -- stream and revision) and its global position: log_hash = sha256(prev log_hash|position|hash).
      -- A set-based rewrite must keep this strictly sequential in global_position order.
      log_h := encode(sha256(convert_to(log_prev || '|' || head::text || '|' || h, 'UTF8')), 'hex');
      INSERT INTO events (global_position, stream_id, stream_revision, event_id, event_type, schema_version,
                          recorded_at, correlation_id, causation_id, actor, tenant, payload,
                          content_hash, prev_hash, hash, log_hash)
      VALUES (head, req->>'stream', cur_rev, (ev->>'id')::uuid, ev->>'type', (ev->>'version')::integer,
              (ev->>'recordedAt')::timestamptz, ev->>'correlationId', ev->>'causationId', ev->>'actor',
              ev->>'tenant', ev->'payload', ev->>'contentHash', cur_hash, h, log_h);
      cur_hash := h;
      log_prev := log_h;
    END LOOP;

    INSERT INTO event_streams (stream_id, revision, last_hash, last_position)
    VALUES (req->>'stream', cur_rev, cur_hash, head)
    ON CONFLICT (stream_id) DO UPDATE
      SET revision = EXCLUDED.revision, last_hash = EXCLUDED.last_hash, last_position = EXCLUDED.last_position;

    results := results || jsonb_build_array(jsonb_build_object(
      'status', 'ok', 'nextRevision', cur_rev::text, 'position', head::text));
  END LOOP;

  UPDATE event_log_head SET position = head, last_hash = log_prev WHERE id = 1;  -- 007: + last_hash
  PERFORM pg_notify('arbiter_events', head::text);
  RETURN results;
END;
$$;
