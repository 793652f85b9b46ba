-- Signing secrets of webhook subscriptions. The subscription itself lives in the event log
-- (WebhookSubscriptionCreated/Changed/Revoked, which record only a fingerprint of the secret);
-- the secret is needed in clear to compute HMAC-SHA256 signatures, so it is kept here, outside
-- the log, and shown to the admin once, when the subscription is created.
CREATE TABLE webhook_secrets (
  subscription_id  uuid        PRIMARY KEY,
  secret           text        NOT NULL,
  fingerprint      text        NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
