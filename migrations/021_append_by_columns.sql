-- The append by columns (issue 13, docs/decisions/0013-speed.md). Same contract as 020's
-- arbiter_append: gap-free positions visible strictly in order, idempotency by event id,
-- expected revision, the engine's fence, the stream and global hash chains, event_streams and
-- event_log_head kept as verify reads them; the contract suite (test/contract) holds it to that
-- unchanged. What changes, and why (measured: the server backend's CPU per append, and pg_waldump of one append):
--   * The group comes as arrays, one per column, not as one jsonb document: no per-field jsonb
--     extraction in SQL and no document to build in the client. A request is a slot in the
--     req_* arrays; its events follow the previous request's in the event arrays; streams (the
--     requests' and the fences') are named once in stream_ids and referred to by index.
--   * Two statements per group whatever its size, where 020 ran four per request and four per group: one
--     read after the lock (the log head, the heads of all the group's streams, kept in arrays
--     through the group, and one index probe per event id: only when one of the ids exists does a
--     request get 020's own lookup), and one write (a data-modifying WITH: every event of the
--     group, the streams' heads, the log head). Then one NOTIFY. The per-request and per-event
--     work left is expressions over arrays: the checks, and the two chains, strictly in order.
--     The events are inserted after the loop, so a later request of a group does not see an
--     earlier one's events: the store ends a group before a request that repeats an event id of
--     the group (a retry queued behind its first try); should a caller of the wrapper below do
--     that, the unique index on event_id fails the whole group and nothing is written.
--   * Generic plans (plan_cache_mode on the function): with an array argument the planner counts
--     its rows in a custom plan and keeps choosing custom plans, so each call was planned again.
--     Every statement here is index probes or this call's arrays in any plan (the laterals with
--     OFFSET 0 are the plan-stable lookups 005 and 020 required).
--   * Appends are serialised by a transaction-scoped advisory lock (key 7350002; the migrator
--     holds 7350001) instead of SELECT … FOR UPDATE on the head row. It is held, like the row lock
--     was, until the transaction has committed and become visible (locks are released after
--     that), so positions still become visible strictly in order; it writes no WAL record and
--     dirties no page (the row lock wrote a heap LOCK record per append). event_log_head is still
--     read after the lock and updated once per group (its last_hash is the global chain's head).
--     Every append goes through arbiter_append_group, so every append takes this lock.
--   * arbiter_append(jsonb) stays, as a wrapper that unpacks 020's document into the columns and
--     calls arbiter_append_group: one body, and a process still running the previous code during
--     a deploy takes the same lock.
-- The store sends the call as a prepared statement (parsed and planned once per connection).

CREATE FUNCTION arbiter_append_group(
  stream_ids      text[],       -- the group's streams, each once (a request's and a fence's)
  req_streams     integer[],    -- per request: its stream, an index into stream_ids
  req_expected    text[],       -- per request: any | no_stream | exists | a revision
  req_counts      integer[],    -- per request: how many events (they follow the previous request's)
  req_fences      integer[],    -- per request: the fence's stream (index into stream_ids) or NULL
  req_fence_revs  bigint[],     -- per request: the fence's revision or NULL
  ids             uuid[],
  types           text[],
  versions        integer[],
  recorded_ats    timestamptz[],
  correlation_ids text[],
  causation_ids   text[],
  actors          text[],
  tenants         text[],
  payloads        jsonb[],
  content_hashes  text[])
RETURNS TABLE (r_status text, r_next_revision bigint, r_position bigint, r_actual bigint, r_found integer, r_stream text)
LANGUAGE plpgsql
-- Every statement below is an index probe, or reads only this call's arrays, in any plan; with
-- custom plans (chosen by default here: a constant array lets the planner count its rows) each
-- call would be planned again, which was a third of the server's time for a one-event append.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  nreq       integer := coalesce(array_length(req_streams, 1), 0);
  nstreams   integer := coalesce(array_length(stream_ids, 1), 0);
  genesis    constant text := repeat('0', 64);
  head       bigint;
  head0      bigint;
  log_prev   text;
  -- Per stream of the group: its head as this group leaves it so far.
  s_rev      bigint[];
  s_hash     text[];
  s_pos      bigint[];
  s_touched  boolean[];
  -- Per event written, in position order (the m-th is at head0 + m).
  w_j        integer[] := '{}';
  w_stream   integer[] := '{}';
  w_rev      bigint[] := '{}';
  w_prev     text[] := '{}';
  w_hash     text[] := '{}';
  w_log      text[] := '{}';
  m          integer := 0;
  -- Per request: its answer.
  o_status   text[];
  o_next     bigint[];
  o_pos      bigint[];
  o_actual   bigint[];
  o_found    integer[];
  o_stream   text[];
  any_found  boolean;
  j          integer := 0;
  k          integer;
  i          integer;
  n          integer;
  s          integer;
  cur_rev    bigint;
  cur_hash   text;
  expected   text;
  fence_rev  bigint;
  found_n    integer;
  first_rev  bigint;
  first_sid  text;
  slice      uuid[];
  h          text;
BEGIN
  -- Held until the transaction has committed and is visible: appends are serialised, so
  -- positions become visible strictly in order and a reader never passes a later-committing event.
  PERFORM pg_advisory_xact_lock(7350002);
  -- After the lock, in one statement (one snapshot): the log head, the head of every stream of
  -- the group (kept in arrays by slot through the group), and whether any of the group's event
  -- ids exists already (usually none; then no request needs its own idempotency lookup).
  SELECT l.position, l.last_hash, h.revs, h.hashes, h.positions,
         EXISTS (SELECT 1 FROM unnest(ids) AS x(id)
                  CROSS JOIN LATERAL (SELECT 1 FROM events e WHERE e.event_id = x.id OFFSET 0) f)
    INTO head, log_prev, s_rev, s_hash, s_pos, any_found
    FROM event_log_head l,
         LATERAL (SELECT array_agg(q.rev) AS revs, array_agg(q.hash) AS hashes, array_agg(q.pos) AS positions
                    FROM (SELECT coalesce(x.revision, -1) AS rev, coalesce(x.last_hash, genesis) AS hash, x.last_position AS pos
                            FROM unnest(stream_ids) WITH ORDINALITY AS u(id, ord)
                            LEFT JOIN LATERAL (SELECT es.revision, es.last_hash, es.last_position FROM event_streams es
                                                WHERE es.stream_id = u.id OFFSET 0) x ON true
                           ORDER BY u.ord) q) h
   WHERE l.id = 1;
  head0 := head;
  s_touched := array_fill(false, ARRAY[nstreams]);
  -- The answers, one slot per request from 1 (assigning to an empty array would start it at k).
  o_status := array_fill(NULL::text, ARRAY[nreq]);
  o_next := array_fill(NULL::bigint, ARRAY[nreq]);
  o_pos := array_fill(NULL::bigint, ARRAY[nreq]);
  o_actual := array_fill(NULL::bigint, ARRAY[nreq]);
  o_found := array_fill(NULL::integer, ARRAY[nreq]);
  o_stream := array_fill(NULL::text, ARRAY[nreq]);

  FOR k IN 1..nreq LOOP
    n := req_counts[k];
    s := req_streams[k];

    -- Idempotency: the same event ids appended again to the same stream, in the same order (020).
    IF any_found THEN
      slice := ids[j + 1 : j + n];
      SELECT count(*), min(f.stream_revision), min(f.stream_id)
        INTO found_n, first_rev, first_sid
        FROM unnest(slice) AS x(id)
       CROSS JOIN LATERAL (SELECT e.stream_revision, e.stream_id FROM events e WHERE e.event_id = x.id OFFSET 0) f;
      IF found_n > 0 THEN
        IF found_n = n AND first_sid = stream_ids[s] AND (
             SELECT count(*) FROM unnest(slice) WITH ORDINALITY AS x(id, ord)
               JOIN events e ON e.event_id = x.id
              WHERE e.stream_id = stream_ids[s] AND e.stream_revision = first_rev + x.ord - 1) = n THEN
          o_status[k] := 'duplicate';
          o_next[k] := first_rev + n - 1;
          o_pos[k] := (SELECT max(e.global_position) FROM events e
                        WHERE e.stream_id = stream_ids[s] AND e.stream_revision BETWEEN first_rev AND first_rev + n - 1);
        ELSE
          o_status[k] := 'idempotency_conflict';
          o_found[k] := found_n;
          o_stream[k] := first_sid;
        END IF;
        j := j + n;
        CONTINUE;
      END IF;
    END IF;

    -- The engine's fence (decision 0011): written only while the fence stream is still at the
    -- given revision, judged under the lock and after any earlier request of this group.
    IF req_fences[k] IS NOT NULL THEN
      fence_rev := s_rev[req_fences[k]];
      IF fence_rev <> req_fence_revs[k] THEN
        o_status[k] := 'fenced';
        o_actual[k] := fence_rev;
        j := j + n;
        CONTINUE;
      END IF;
    END IF;

    cur_rev := s_rev[s];
    cur_hash := s_hash[s];
    expected := req_expected[k];
    IF (expected = 'no_stream' AND cur_rev <> -1)
       OR (expected = 'exists' AND cur_rev = -1)
       OR (expected NOT IN ('any', 'no_stream', 'exists') AND expected::bigint <> cur_rev) THEN
      o_status[k] := 'wrong_expected_revision';
      o_actual[k] := cur_rev;
      j := j + n;
      CONTINUE;
    END IF;

    -- The chains, in order: stream hash = sha256(prev|revision|contentHash), global
    -- log_hash = sha256(prev log_hash|position|hash).
    FOR i IN 1..n LOOP
      h := encode(sha256(convert_to(cur_hash || '|' || (cur_rev + i)::text || '|' || content_hashes[j + i], 'UTF8')), 'hex');
      log_prev := encode(sha256(convert_to(log_prev || '|' || (head + i)::text || '|' || h, 'UTF8')), 'hex');
      m := m + 1;
      w_j[m] := j + i;
      w_stream[m] := s;
      w_rev[m] := cur_rev + i;
      w_prev[m] := cur_hash;
      w_hash[m] := h;
      w_log[m] := log_prev;
      cur_hash := h;
    END LOOP;
    head := head + n;
    cur_rev := cur_rev + n;
    s_rev[s] := cur_rev;
    s_hash[s] := cur_hash;
    s_pos[s] := head;
    s_touched[s] := true;
    o_status[k] := 'ok';
    o_next[k] := cur_rev;
    o_pos[k] := head;
    j := j + n;
  END LOOP;

  -- Every write of the group in one statement: its events, its streams' heads, the log head.
  IF m > 0 THEN
    WITH written AS (
      INSERT INTO events (global_position, stream_id, stream_revision, event_id, event_type, schema_version,
                          recorded_at, correlation_id, causation_id, actor, tenant, payload,
                          content_hash, prev_hash, hash, log_hash)
      SELECT head0 + w.ord, stream_ids[w.s], w.rev, ids[w.j], types[w.j], versions[w.j],
             recorded_ats[w.j], correlation_ids[w.j], causation_ids[w.j], actors[w.j],
             tenants[w.j], payloads[w.j], content_hashes[w.j], w.prev, w.hash, w.log
        FROM unnest(w_j, w_stream, w_rev, w_prev, w_hash, w_log) WITH ORDINALITY AS w(j, s, rev, prev, hash, log, ord)
    ), heads AS (
      INSERT INTO event_streams (stream_id, revision, last_hash, last_position)
      SELECT stream_ids[u.i], s_rev[u.i], s_hash[u.i], s_pos[u.i]
        FROM generate_subscripts(stream_ids, 1) AS u(i) WHERE s_touched[u.i]
      ON CONFLICT (stream_id) DO UPDATE
        SET revision = EXCLUDED.revision, last_hash = EXCLUDED.last_hash, last_position = EXCLUDED.last_position
    )
    UPDATE event_log_head SET position = head, last_hash = log_prev WHERE id = 1;
    PERFORM pg_notify('arbiter_events', head::text);
  END IF;

  RETURN QUERY SELECT * FROM unnest(o_status, o_next, o_pos, o_actual, o_found, o_stream);
END;
$$;

-- 020's entry point, now unpacking its document into the columns: one body for every append.
CREATE OR REPLACE FUNCTION arbiter_append(requests jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  names text[];
  res   jsonb;
BEGIN
  names := ARRAY(SELECT DISTINCT q.s FROM (
             SELECT r->>'stream' AS s FROM jsonb_array_elements(requests) r
             UNION SELECT r->'fence'->>'stream' FROM jsonb_array_elements(requests) r
                    WHERE jsonb_typeof(r->'fence') = 'object') q);
  WITH reqs AS (SELECT r, o FROM jsonb_array_elements(requests) WITH ORDINALITY AS x(r, o)),
       evs AS (SELECT e, reqs.o, y.i FROM reqs, jsonb_array_elements(reqs.r->'events') WITH ORDINALITY AS y(e, i))
  SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'status', g.r_status, 'nextRevision', g.r_next_revision::text, 'position', g.r_position::text,
           'actual', g.r_actual::text, 'found', g.r_found, 'stream', g.r_stream)) ORDER BY g.ord), '[]'::jsonb)
    INTO res
    FROM arbiter_append_group(
           names,
           ARRAY(SELECT array_position(names, r->>'stream') FROM reqs ORDER BY o),
           ARRAY(SELECT r->>'expected' FROM reqs ORDER BY o),
           ARRAY(SELECT jsonb_array_length(r->'events') FROM reqs ORDER BY o),
           ARRAY(SELECT CASE WHEN jsonb_typeof(r->'fence') = 'object' THEN array_position(names, r->'fence'->>'stream') END FROM reqs ORDER BY o),
           ARRAY(SELECT CASE WHEN jsonb_typeof(r->'fence') = 'object' THEN (r->'fence'->>'revision')::bigint END FROM reqs ORDER BY o),
           ARRAY(SELECT (e->>'id')::uuid FROM evs ORDER BY o, i),
           ARRAY(SELECT e->>'type' FROM evs ORDER BY o, i),
           ARRAY(SELECT (e->>'version')::integer FROM evs ORDER BY o, i),
           ARRAY(SELECT (e->>'recordedAt')::timestamptz FROM evs ORDER BY o, i),
           ARRAY(SELECT e->>'correlationId' FROM evs ORDER BY o, i),
           ARRAY(SELECT e->>'causationId' FROM evs ORDER BY o, i),
           ARRAY(SELECT e->>'actor' FROM evs ORDER BY o, i),
           ARRAY(SELECT e->>'tenant' FROM evs ORDER BY o, i),
           ARRAY(SELECT e->'payload' FROM evs ORDER BY o, i),
           ARRAY(SELECT e->>'contentHash' FROM evs ORDER BY o, i)) WITH ORDINALITY AS g(r_status, r_next_revision, r_position, r_actual, r_found, r_stream, ord);
  RETURN res;
END;
$$;
