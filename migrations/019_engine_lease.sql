-- High availability (docs/decisions/0011-engine-high-availability.md): the engine lease.
--
-- engine_lease: one row, judged on the database's clock (now()), never a node's. A standby takes
-- it when it has expired (epoch + 1); the holder renews it before it does. Two nodes can both
-- believe they lead for at most the margin a node keeps (ENGINE_LEASE_MARGIN_MS) plus clock rate
-- drift: the fence in arbiter_append (020) is what makes that harmless.
CREATE TABLE engine_lease (
  id         integer PRIMARY KEY CHECK (id = 1),
  holder     text        NOT NULL,
  epoch      bigint      NOT NULL,
  expires_at timestamptz NOT NULL
);
INSERT INTO engine_lease (id, holder, epoch, expires_at) VALUES (1, '', 0, '-infinity');

-- The fence every engine append carries is checked inside arbiter_append: see 020, which
-- rewrites the function set-based and adds the fence there (one definition, not two).
