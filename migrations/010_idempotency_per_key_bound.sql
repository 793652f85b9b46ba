-- Idempotency records are bounded per API key (IDEMPOTENCY_MAX_RECORDS_PER_KEY): when a key
-- claims a new record, its oldest finished ones beyond the bound are dropped. This index makes
-- finding them a short walk of that key's newest records instead of a scan of the table.
CREATE INDEX api_idempotency_key_created ON api_idempotency (key_id, created_at DESC, idempotency_key DESC);
