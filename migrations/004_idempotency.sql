-- Idempotency records of the REST command endpoints: one row per (API key, Idempotency-Key).
-- A request claims its row (status 'pending') before it runs, so a concurrent duplicate waits
-- for it instead of writing again; the response is kept for replay. The fingerprint (a hash of
-- method, route, path parameters and body) tells a true retry from a reused key.
CREATE TABLE api_idempotency (
  key_id           text        NOT NULL,
  idempotency_key  text        NOT NULL,
  fingerprint      text        NOT NULL,
  status           text        NOT NULL CHECK (status IN ('pending', 'done')),
  response_status  integer,
  response_body    jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX api_idempotency_created_at ON api_idempotency (created_at);
