-- Projection bookkeeping. Each projection's read-model tables live in a schema of their own per
-- generation (proj_<name>_g<N>); public views of the same names point at the active generation,
-- so a rebuild fills a fresh generation while the old one keeps serving, then switches in one
-- transaction. The checkpoint of a generation advances in the same transaction as its tables.
CREATE TABLE projection_generations (
  name        text        NOT NULL,
  generation  integer     NOT NULL,
  version     integer     NOT NULL,
  status      text        NOT NULL CHECK (status IN ('building', 'active', 'retired')),
  checkpoint  bigint      NOT NULL DEFAULT 0,
  events_applied bigint   NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, generation)
);
CREATE UNIQUE INDEX projection_one_active ON projection_generations (name) WHERE status = 'active';
