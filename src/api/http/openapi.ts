// The OpenAPI 3.1 document of the REST API. Request bodies are generated (z.toJSONSchema) from the
// same zod schemas the endpoints validate with (body-schema.ts). Served at GET /docs/openapi.json;
// GET /docs renders it.
import { z } from 'zod';
import { FlagActionBody, IssueKeyBody, ReasonBody, RevokeKeyBody, RiskLimitsBody, SanctionsListBody, WebhookSubscriptionBody, WebhookSubscriptionChangeBody, type BodySchema } from './body-schema.js';

/** The JSON Schema subset this document writes by hand (responses, path parameters). */
interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  pattern?: string;
  examples?: unknown[];
}

/** A request body's JSON Schema, from its zod declaration (without the $schema line: OpenAPI 3.1 dialect). */
function bodyJsonSchema(schema: BodySchema): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

type Role = 'viewer' | 'operator' | 'risk' | 'compliance' | 'admin' | null;

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** null = public (no key needed). */
  role: Role;
  body?: { schema: string; required?: boolean };
  params?: { name: string; description: string; schema: JsonSchema }[];
  success: { status: number; description: string; schema?: string; contentType?: string };
  errors: number[];
  idempotent?: boolean;
}

const COMMAND_ERRORS = [400, 401, 403, 409, 413, 415, 422, 500];

/** Every route the API serves, one entry each. Tests check this list against the app's routes. */
export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/health', tag: 'system', role: null, summary: 'Liveness', success: { status: 200, description: '{ status: ok }', schema: 'Health' }, errors: [] },
  { method: 'get', path: '/ready', tag: 'system', role: null, summary: 'Readiness: event store, database and projection lag', success: { status: 200, description: 'Ready', schema: 'Readiness' }, errors: [503] },
  { method: 'get', path: '/metrics', tag: 'system', role: null, summary: 'Prometheus metrics', success: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' }, errors: [] },
  { method: 'get', path: '/docs', tag: 'system', role: null, summary: 'This documentation (HTML)', success: { status: 200, description: 'HTML page', contentType: 'text/html' }, errors: [] },
  { method: 'get', path: '/docs/openapi.json', tag: 'system', role: null, summary: 'This OpenAPI document', success: { status: 200, description: 'OpenAPI 3.1 JSON' }, errors: [] },
  {
    method: 'post', path: '/engine/pause', tag: 'engine', role: 'operator', summary: 'Pause trading',
    description: 'Records EnginePaused (cause operator) in the `engine` stream. 409 when already paused.',
    body: { schema: 'ReasonBody' }, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  },
  {
    method: 'post', path: '/engine/resume', tag: 'engine', role: 'operator', summary: 'Resume trading',
    description: 'Records EngineResumed in the `engine` stream (also after a circuit-breaker pause). 409 when already active.',
    body: { schema: 'ReasonBody' }, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  },
  {
    method: 'post', path: '/engine/reduce', tag: 'engine', role: 'operator', summary: 'Wind down: only exposure-reducing trades',
    description: 'Records EngineReducing in the `engine` stream: risk then approves only trades that sell a held position. Resume returns to ACTIVE. 409 when already reducing.',
    body: { schema: 'ReasonBody' }, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  },
  {
    method: 'put', path: '/risk/limits', tag: 'risk', role: 'risk', summary: 'Replace the risk limits',
    description: 'Records RiskLimitsChanged in the `engine` stream. Every limit is required (PUT replaces the set). Amounts are integers or strings of digits, never fractions.',
    body: { schema: 'RiskLimitsBody' }, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: COMMAND_ERRORS, idempotent: true,
  },
  {
    method: 'put', path: '/compliance/sanctions-list', tag: 'compliance', role: 'compliance', summary: 'Replace the sanctions list in force',
    description: 'Records SanctionsListActivated in the `compliance-sanctions-list` stream, unless the list in force has the same content (changed: false, nothing recorded). Every node screens against the latest one.',
    body: { schema: 'SanctionsListBody' }, success: { status: 200, description: 'Whether the list changed, its content hash and size, and the recorded event', schema: 'SanctionsListActivation' }, errors: COMMAND_ERRORS, idempotent: true,
  },
  {
    method: 'post', path: '/compliance/flags/{id}/review', tag: 'compliance', role: 'compliance', summary: 'Review or close a compliance flag',
    description: "action 'review' (default): open → reviewed, records ComplianceFlagReviewed. action 'close': reviewed → closed, records ComplianceFlagClosed (optional outcome dismissed|reported). A flag is never closed unreviewed (409). 404 when the flag does not exist.",
    params: [{ name: 'id', description: 'Flag id (UUID)', schema: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } }],
    body: { schema: 'FlagActionBody' }, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  },
  {
    method: 'post', path: '/projections/{name}/rebuild', tag: 'projections', role: 'admin', summary: 'Rebuild a read model',
    description: 'Records ProjectionRebuildRequested and rebuilds the projection in the background into a new generation while the live one keeps serving. 409 when a rebuild of it is already running. Follow it at the Location.',
    params: [{ name: 'name', description: 'Projection name', schema: { type: 'string' } }],
    body: { schema: 'ReasonBody' }, success: { status: 202, description: 'Accepted: the recorded request and where to follow it', schema: 'RebuildAccepted' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  },
  {
    method: 'get', path: '/projections/{name}/rebuild', tag: 'projections', role: 'viewer', summary: 'Progress of the latest rebuild',
    description: 'state idle|running|completed|failed; progress (positions scanned, events applied, rate, ETA) and, when completed, the digest of the new generation.',
    params: [{ name: 'name', description: 'Projection name', schema: { type: 'string' } }],
    success: { status: 200, description: 'Rebuild status', schema: 'RebuildStatus' }, errors: [401, 404],
  },
  { method: 'get', path: '/keys', tag: 'keys', role: 'admin', summary: 'List API keys (never the keys or their hashes)', success: { status: 200, description: 'Keys', schema: 'KeyList' }, errors: [401, 403] },
  {
    method: 'post', path: '/keys', tag: 'keys', role: 'admin', summary: 'Issue an API key',
    description: 'The key is in this response only (the server keeps its SHA-256). A replay under the same Idempotency-Key answers with key: null. Records ApiKeyIssued.',
    body: { schema: 'IssueKeyBody' }, success: { status: 201, description: 'The new key', schema: 'IssuedKey' }, errors: COMMAND_ERRORS, idempotent: true,
  },
  {
    method: 'delete', path: '/keys/{id}', tag: 'keys', role: 'admin', summary: 'Revoke an API key',
    description: 'Records ApiKeyRevoked. The body (optional) may give a reason.',
    params: [{ name: 'id', description: 'Key id (the 12 characters after arb_)', schema: { type: 'string' } }],
    body: { schema: 'RevokeKeyBody', required: false }, success: { status: 200, description: 'Revoked', schema: 'KeyRevoked' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  },
  {
    method: 'get', path: '/audit/export', tag: 'audit', role: 'compliance', summary: 'Download an evidence bundle',
    description:
      'Query parameters (all optional): from, to (ISO-8601 times, [from, to), or global positions, inclusive), stream or correlation (not both), ' +
      'report (daily_transactions, suspicious_activity; comma-separated). Answers one JSON-lines file (README: Audits): events with their hashes, ' +
      'stream anchors, seals, the ledger\'s verification and point-in-time reports; `arbiter audit check FILE` re-verifies it offline. ' +
      'Records AuditBundleExported with the key as actor. 400 names a bad selection (a time in the future, a position past the head, more than 50,000 events …).',
    success: { status: 200, description: 'The bundle', contentType: 'application/x-ndjson' }, errors: [400, 401, 403],
  },
  {
    method: 'post', path: '/webhooks/subscriptions', tag: 'webhooks', role: 'admin', summary: 'Subscribe a URL to event types',
    description: 'Records WebhookSubscriptionCreated. The signing secret is in this response only (a replay under the same Idempotency-Key answers with secret: null). Deliveries start with the events after the subscription; each POST is signed (README: Notifications). 400 names every problem, including a URL that is not http(s) or whose host is not in WEBHOOK_ALLOWED_HOSTS.',
    body: { schema: 'WebhookSubscriptionBody' }, success: { status: 201, description: 'The new subscription and its secret', schema: 'CreatedWebhookSubscription' }, errors: COMMAND_ERRORS, idempotent: true,
  },
  { method: 'get', path: '/webhooks/subscriptions', tag: 'webhooks', role: 'admin', summary: 'List webhook subscriptions with their delivery health', success: { status: 200, description: 'Subscriptions', schema: 'WebhookSubscriptionList' }, errors: [401, 403] },
  {
    method: 'get', path: '/webhooks/subscriptions/{id}', tag: 'webhooks', role: 'admin', summary: 'One webhook subscription',
    params: [{ name: 'id', description: 'Subscription id (UUID)', schema: { type: 'string' } }],
    success: { status: 200, description: 'The subscription', schema: 'WebhookSubscription' }, errors: [401, 403, 404],
  },
  {
    method: 'get', path: '/webhooks/subscriptions/{id}/deliveries', tag: 'webhooks', role: 'admin', summary: 'The delivery log of a subscription',
    description: 'Every attempt in order: event, attempt number, outcome (delivered, failed, dead_lettered), HTTP status, error, duration. Query: outcome, after (nextAfter of the previous page), limit (1–1000, default 100).',
    params: [{ name: 'id', description: 'Subscription id (UUID)', schema: { type: 'string' } }],
    success: { status: 200, description: 'Attempts', schema: 'WebhookDeliveryList' }, errors: [400, 401, 403, 404],
  },
  {
    method: 'patch', path: '/webhooks/subscriptions/{id}', tag: 'webhooks', role: 'admin', summary: 'Change a webhook subscription',
    description: 'Records WebhookSubscriptionChanged: URL, event types, minimum severity or description (fields left out stay). 404 unknown, 409 revoked.',
    params: [{ name: 'id', description: 'Subscription id (UUID)', schema: { type: 'string' } }],
    body: { schema: 'WebhookSubscriptionChangeBody' }, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  },
  {
    method: 'delete', path: '/webhooks/subscriptions/{id}', tag: 'webhooks', role: 'admin', summary: 'Revoke a webhook subscription',
    description: 'Records WebhookSubscriptionRevoked; delivery stops. The body (optional) may give a reason. 404 unknown, 409 already revoked.',
    params: [{ name: 'id', description: 'Subscription id (UUID)', schema: { type: 'string' } }],
    body: { schema: 'RevokeKeyBody', required: false }, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  },
  {
    method: 'post', path: '/graphql', tag: 'graphql', role: 'viewer', summary: 'GraphQL queries (ledger history, read models)',
    description: 'Any valid key may query. Schema and GraphiQL at /graphiql.',
    body: { schema: 'GraphqlRequest' }, success: { status: 200, description: 'GraphQL response' }, errors: [400, 401],
  },
];

const receipt: JsonSchema & { properties: Record<string, JsonSchema> } = {
  type: 'object',
  description: 'What the command recorded; read it back from the log by stream and revision',
  required: ['eventId', 'type', 'streamId', 'revision', 'position', 'recordedAt', 'actor'],
  properties: {
    eventId: { type: 'string', description: 'UUID; derived from the Idempotency-Key when one is sent' },
    type: { type: 'string', examples: ['EnginePaused'] },
    streamId: { type: 'string', examples: ['engine'] },
    revision: { type: 'string', description: 'Revision in the stream (decimal string)' },
    position: { type: 'string', description: 'Global position (decimal string)' },
    recordedAt: { type: 'string', description: 'ISO-8601 UTC' },
    actor: { type: 'string', description: 'apikey:<keyId>:<label>' },
  },
};

const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({ type: 'object', properties, required });
const s = (description?: string) => ({ type: 'string', ...(description ? { description } : {}) });

const SCHEMAS: Record<string, unknown> = {
  ReasonBody: bodyJsonSchema(ReasonBody),
  RiskLimitsBody: bodyJsonSchema(RiskLimitsBody),
  SanctionsListBody: bodyJsonSchema(SanctionsListBody),
  SanctionsListActivation: obj({
    changed: { type: 'boolean' },
    contentHash: s(),
    size: { type: 'integer' },
    event: { oneOf: [{ $ref: '#/components/schemas/CommandReceipt' }, { type: 'null' }] },
  }),
  FlagActionBody: bodyJsonSchema(FlagActionBody),
  IssueKeyBody: bodyJsonSchema(IssueKeyBody),
  RevokeKeyBody: bodyJsonSchema(RevokeKeyBody),
  WebhookSubscriptionBody: bodyJsonSchema(WebhookSubscriptionBody),
  WebhookSubscriptionChangeBody: bodyJsonSchema(WebhookSubscriptionChangeBody),
  CreatedWebhookSubscription: obj({
    subscriptionId: s('UUID'),
    secret: { type: ['string', 'null'], description: 'whsec_…: the HMAC-SHA256 key; store it now, it is not shown again' },
    url: s(),
    eventTypes: { type: 'array', items: s() },
    minSeverity: { type: ['string', 'null'] },
    description: s(),
    event: { $ref: '#/components/schemas/CommandReceipt' },
  }),
  WebhookSubscription: obj({
    subscriptionId: s(), url: s(), eventTypes: { type: 'array', items: s() }, minSeverity: { type: ['string', 'null'] }, description: s(),
    secretFingerprint: s('First 16 hex digits of sha256(secret)'), status: s('active, failing or revoked'), createdBy: s(), createdAt: s(),
    changedAt: { type: ['string', 'null'] }, revokedAt: { type: ['string', 'null'] }, revokedBy: { type: ['string', 'null'] },
    delivered: s('decimal string'), failedAttempts: s(), deadLettered: s(), lastAttemptAt: { type: ['string', 'null'] }, lastDeliveredAt: { type: ['string', 'null'] }, lastError: { type: ['string', 'null'] },
  }),
  WebhookSubscriptionList: obj({ subscriptions: { type: 'array', items: { $ref: '#/components/schemas/WebhookSubscription' } } }),
  WebhookDeliveryList: obj({
    deliveries: {
      type: 'array',
      items: obj({
        position: s(), subscriptionId: s(), eventId: s('The delivered event: X-Arbiter-Event-Id'), eventType: s(), eventPosition: s(), attempt: { type: 'integer' },
        outcome: s('delivered, failed or dead_lettered'), httpStatus: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] }, durationMs: { type: 'integer' },
        attemptedAt: s(), nextAttemptAt: { type: ['string', 'null'] },
      }),
    },
    nextAfter: { type: ['string', 'null'], description: 'Pass as after for the next page; null on the last' },
  }),
  CommandReceipt: receipt,
  RebuildAccepted: { ...receipt, properties: { ...receipt.properties, statusUrl: s('GET it to follow the rebuild') }, required: [...(receipt.required ?? []), 'statusUrl'] },
  RebuildStatus: obj({
    projection: s(),
    state: { type: 'string', enum: ['idle', 'running', 'completed', 'failed'] },
    requestEventId: { type: ['string', 'null'] },
    requestedBy: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    progress: {
      type: ['object', 'null'],
      properties: {
        generation: { type: 'integer' },
        position: s('Global position scanned up to'),
        head: s('Head of the log'),
        eventsApplied: { type: 'integer' },
        percent: { type: 'number' },
        elapsedSeconds: { type: 'number' },
        eventsPerSecond: { type: 'number' },
        etaSeconds: { type: ['number', 'null'] },
      },
    },
    result: { type: ['object', 'null'], properties: { generation: { type: 'integer' }, eventsApplied: { type: 'integer' }, seconds: { type: 'number' }, digest: s('Digest of every table of the new generation') } },
    error: { type: ['string', 'null'] },
  }),
  KeyList: obj({ keys: { type: 'array', items: obj({ keyId: s(), role: s(), label: s(), createdAt: s(), revokedAt: { type: ['string', 'null'] } }) } }),
  IssuedKey: obj({ keyId: s(), key: { type: ['string', 'null'], description: 'arb_<keyId>_<secret>: store it now, it is not shown again' }, role: s(), label: s(), event: { $ref: '#/components/schemas/CommandReceipt' } }),
  KeyRevoked: obj({ keyId: s(), revoked: { type: 'boolean', const: true }, event: { $ref: '#/components/schemas/CommandReceipt' } }),
  GraphqlRequest: obj({ query: s(), variables: { type: 'object' }, operationName: s() }, ['query']),
  Health: obj({ status: s() }),
  Readiness: obj({ status: s(), checks: { type: 'object', additionalProperties: { type: 'string' } } }),
  Error: obj(
    {
      statusCode: { type: 'integer' },
      error: s('HTTP reason phrase'),
      message: s('What was wrong and what to do'),
      problems: { type: 'array', items: s(), description: 'Every problem with the body, each naming the field' },
      correlationId: s('Quote it when reporting a problem; it is in the logs and in the events a command recorded'),
    },
    ['statusCode', 'error', 'message', 'correlationId'],
  ),
};

const ERROR_TEXT: Record<number, string> = {
  400: 'Bad request: malformed JSON ("body is not valid JSON"), a missing or unknown field, a wrong type (each problem names the field), an invalid Idempotency-Key',
  401: 'No API key, or an unknown or revoked one',
  403: 'The key’s role does not allow this; nothing was written',
  404: 'Not found',
  409: 'Refused in the current state (e.g. already paused, flag still open, rebuild running), or a concurrent change: nothing was written',
  413: 'Body larger than 256 KiB',
  415: 'Body is not application/json',
  422: 'The Idempotency-Key was already used for a different request',
  500: 'Unexpected error; the response carries the correlation id it was logged with',
  503: 'Not ready / event store unavailable',
};

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const responses: Record<string, unknown> = {
      [op.success.status]: {
        description: op.success.description,
        ...(op.success.schema
          ? { content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.success.schema}` } } } }
          : op.success.contentType
            ? { content: { [op.success.contentType]: { schema: { type: 'string' } } } }
            : {}),
      },
    };
    for (const code of op.errors) {
      responses[code] = { description: ERROR_TEXT[code] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    const parameters: unknown[] = (op.params ?? []).map((p) => ({ name: p.name, in: 'path', required: true, description: p.description, schema: p.schema }));
    if (op.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Optional but honoured: a retry with the same key and body gets the first answer and writes nothing; the same key with another body gets 422.',
        schema: { type: 'string', minLength: 1, maxLength: 200 },
      });
    }
    const roleText = op.role === null ? 'Public (no key).' : `Needs an API key with the **${op.role}** role${op.role === 'admin' ? '' : ' (or admin)'}${op.role === 'viewer' ? ': any valid key' : ''}.`;
    (paths[op.path] ??= {})[op.method] = {
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, roleText].filter(Boolean).join('\n\n'),
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      'x-required-role': op.role,
      security: op.role === null ? [] : [{ bearer: [] }, { apiKey: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? { requestBody: { required: op.body.required ?? true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.body.schema}` } } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Arbiter control plane',
      version: '0.1.0',
      description:
        'Commands on the trading engine, its risk limits, compliance cases, read models and API keys. Every command is recorded as an event with the actor (apikey:<keyId>:<label>) and reason. ' +
        'Roles: viewer (queries), operator (pause/resume), risk (limits), compliance (flag review), admin (everything, incl. rebuilds and keys).',
    },
    tags: ['system', 'engine', 'risk', 'compliance', 'projections', 'keys', 'webhooks', 'graphql'].map((name) => ({ name })),
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer arb_<keyId>_<secret>' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}

const escape = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained page listing every endpoint (no CDN: nothing outside is reachable). */
export function docsHtml(): string {
  const rows = OPERATIONS.map(
    (op) => `<tr><td><code>${op.method.toUpperCase()}</code></td><td><code>${escape(op.path)}</code></td><td>${op.role ?? 'public'}</td><td>${escape(op.summary)}${
      op.description ? `<br><small>${escape(op.description)}</small>` : ''
    }${op.body ? `<br><small>body: <a href="#${op.body.schema}">${op.body.schema}</a></small>` : ''}</td></tr>`,
  ).join('\n');
  const schemas = Object.entries(SCHEMAS)
    .map(([name, schema]) => `<h3 id="${name}">${name}</h3><pre>${escape(JSON.stringify(schema, null, 2))}</pre>`)
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Arbiter API</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}td{padding:.3em .6em;vertical-align:top;border-bottom:1px solid #ddd}pre{background:#f6f6f6;padding:.6em}</style></head>
<body><h1>Arbiter control plane</h1><p>OpenAPI 3.1: <a href="/docs/openapi.json">/docs/openapi.json</a>. Send a key as <code>Authorization: Bearer arb_…</code> or <code>X-API-Key</code>; commands take an optional <code>Idempotency-Key</code> header.</p>
<table><tr><th>Method</th><th>Path</th><th>Role</th><th>What</th></tr>
${rows}</table><h2>Schemas</h2>${schemas}</body></html>`;
}
