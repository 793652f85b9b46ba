// Events of API keys (issued, revoked), owned by the API's auth. Secrets never appear here: an
// issued key is recorded by id, role and label only.
import { defineEvent, type PayloadOf } from '../../ledger/event-types.js';
import { obj, str } from '../../ledger/schema.js';

/** Stream of one API key's life. */
export const apiKeyStreamId = (keyId: string) => `apikey-${keyId}`;

const actor = str({ min: 1, max: 200 });
const reason = str({ min: 1, max: 2000 });
const keyId = str({ pattern: /^[a-z0-9]{12}$/ });

export const ApiKeyIssued = defineEvent({
  type: 'ApiKeyIssued',
  version: 1,
  payload: obj({
    keyId,
    role: str({ oneOf: ['viewer', 'operator', 'risk', 'compliance', 'admin'] }),
    label: str({ min: 1, max: 100 }),
    actor,
  }),
});
export type ApiKeyIssuedPayload = PayloadOf<typeof ApiKeyIssued>;

export const ApiKeyRevoked = defineEvent({
  type: 'ApiKeyRevoked',
  version: 1,
  payload: obj({ keyId, actor, reason }),
});
export type ApiKeyRevokedPayload = PayloadOf<typeof ApiKeyRevoked>;

export const apiKeyEvents = [ApiKeyIssued, ApiKeyRevoked];
