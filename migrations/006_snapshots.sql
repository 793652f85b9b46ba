-- Snapshots of in-memory folds (the engine's trading state), so a start folds only the events
-- after the snapshot instead of the whole history. A snapshot is derived data: deleting it is
-- always safe (the next start folds from the beginning), and `version` discards one written by
-- an older fold.
CREATE TABLE snapshots (
  name       text        PRIMARY KEY,
  version    integer     NOT NULL,
  position   bigint      NOT NULL,
  state      jsonb       NOT NULL,
  saved_at   timestamptz NOT NULL DEFAULT now()
);
