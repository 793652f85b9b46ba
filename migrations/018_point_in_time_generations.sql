-- Point-in-time generations for audits: a projection built from position 0 up to a past position
-- (as_of_position) into a schema of its own, queried, and dropped after expires_at. They sit
-- beside the live generations in the same bookkeeping table (so generation numbers never clash)
-- with a status of their own, which a rebuild's clean-up of dead 'building' generations and the
-- live runner both ignore.
ALTER TABLE projection_generations DROP CONSTRAINT IF EXISTS projection_generations_status_check;
ALTER TABLE projection_generations
  ADD CONSTRAINT projection_generations_status_check CHECK (status IN ('building', 'active', 'retired', 'point_in_time'));
ALTER TABLE projection_generations ADD COLUMN as_of_position bigint;
ALTER TABLE projection_generations ADD COLUMN expires_at timestamptz;
CREATE INDEX projection_generations_point_in_time ON projection_generations (expires_at) WHERE status = 'point_in_time';
