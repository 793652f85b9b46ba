-- API keys for the REST and GraphQL API. Only a SHA-256 hash of each key is kept; the key itself
-- is shown once, when it is issued.
CREATE TABLE api_keys (
  key_id      text        PRIMARY KEY,
  key_hash    text        NOT NULL UNIQUE,
  role        text        NOT NULL CHECK (role IN ('viewer', 'operator', 'risk', 'compliance', 'admin')),
  label       text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
