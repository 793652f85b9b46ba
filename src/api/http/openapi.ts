// The OpenAPI 3.1 document of the REST API, generated from the controllers themselves: each
// route's method and path from Nest's route metadata, its role from the same @Roles/@Public
// metadata the API key guard reads (routeRole), and what it means from the @Doc on its handler.
// Request bodies are generated (z.toJSONSchema) from the zod schemas the endpoints validate with
// (body-schema.ts), named by their export. Served at GET /docs/openapi.json; GET /docs renders it.
import { RequestMethod, SetMetadata, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { z } from 'zod';
import type { Role } from '../auth/api-keys.js';
import { routeRole } from '../auth/decorators.js';
import { GRAPHQL_PATH } from '../api.tokens.js';
import * as bodySchemas from './body-schema.js';
import type { BodySchema } from './body-schema.js';

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

/** The tags of the document, in the order it lists them. */
export const TAGS = ['system', 'engine', 'risk', 'compliance', 'projections', 'keys', 'audit', 'webhooks', 'graphql'] as const;
export type Tag = (typeof TAGS)[number];

/** A path parameter (`:id` in the route, `{id}` in the document). */
interface PathParam {
  name: string;
  description: string;
  schema: JsonSchema;
}

/**
 * What a handler's route means to a caller, declared on the handler with @Doc. The method, path
 * and role are not here: the document reads them from the route's own Nest and @Roles/@Public
 * metadata, so they cannot drift from what the app serves.
 */
export interface DocSpec {
  tag: Tag;
  summary: string;
  description?: string;
  /** The zod schema the handler reads its body with (readBody). */
  body?: BodySchema;
  /** The body may be left out (readBody with { optional: true }). */
  bodyOptional?: true;
  params?: PathParam[];
  success: { status: number; description: string; schema?: ResponseSchemaName; contentType?: string };
  errors: readonly number[];
  /** The handler runs under the caller's Idempotency-Key. */
  idempotent?: true;
}

const API_DOC = 'arbiter:api-doc';

/** Documents a route in the OpenAPI document (and the /docs page). */
export const Doc = (spec: DocSpec) => SetMetadata(API_DOC, spec);

/** Leaves a route out of the document on purpose, saying why (every route has @Doc or this). */
export const Undocumented = (why: string) => SetMetadata(API_DOC, { undocumented: why });

export const COMMAND_ERRORS = [400, 401, 403, 409, 413, 415, 422, 500] as const;

/** One documented operation: the route's own metadata plus its @Doc. */
interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  /** null = public (no key needed). */
  role: Role | null;
  doc: Omit<DocSpec, 'body' | 'bodyOptional'> & { body?: { schema: string; required: boolean } };
}

const VERBS: Partial<Record<RequestMethod, Operation['method']>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.DELETE]: 'delete',
};

/** The name of a body schema: its export name in body-schema.ts (the component it is filed under). */
function bodyName(schema: BodySchema, where: string): string {
  const found = Object.entries(bodySchemas).find(([, v]) => v === schema);
  if (!found) throw new Error(`@Doc of ${where}: the body schema is not an export of body-schema.ts`);
  return found[0];
}

const joinPath = (...parts: unknown[]) =>
  `/${parts.map((p) => String(p ?? '').replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;

/** A route as Nest registers it, with the role the guard enforces and its @Doc (or why it has none). */
export interface Route {
  method: Operation['method'];
  /** OpenAPI form: `{id}` for `:id`. */
  path: string;
  /** Controller.handler, for messages. */
  where: string;
  role: Role | null;
  doc: DocSpec | { undocumented: string } | undefined;
}

/** Every route of these controllers, read from their own metadata. */
export function routesOf(controllers: readonly Type[]): Route[] {
  const reflector = new Reflector();
  const out: Route[] = [];
  for (const controller of controllers) {
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const sub: unknown = Reflect.getMetadata(PATH_METADATA, handler);
      if (sub === undefined) continue;
      const base: unknown = Reflect.getMetadata(PATH_METADATA, controller);
      if (Array.isArray(sub) || Array.isArray(base)) throw new Error(`${controller.name}.${name}: one path per route, please (the document names one)`);
      const verb = VERBS[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      const where = `${controller.name}.${name}`;
      if (!verb) throw new Error(`${where}: an HTTP method the document does not describe`);
      out.push({
        method: verb,
        path: joinPath(base, sub).replace(/:(\w+)/g, '{$1}'),
        where,
        role: routeRole(reflector, [handler, controller]),
        doc: Reflect.getMetadata(API_DOC, handler) as DocSpec | { undocumented: string } | undefined,
      });
    }
  }
  return out;
}

/** POST /graphql: served by mercurius, not a controller, so its entry is here. */
const GRAPHQL_OPERATION: Operation = {
  method: 'post',
  path: GRAPHQL_PATH,
  role: 'viewer',
  doc: {
    tag: 'graphql',
    summary: 'GraphQL queries (ledger history, read models)',
    description: 'Any valid key may query. Schema and GraphiQL at /graphiql.',
    body: { schema: 'GraphqlRequest', required: true },
    success: { status: 200, description: 'GraphQL response' },
    errors: [400, 401],
  },
};

/**
 * The documented operations of these controllers (plus GraphQL), in tag order. A route with
 * neither @Doc nor @Undocumented is an error, so a new route cannot be served undocumented.
 */
export function operationsOf(controllers: readonly Type[]): Operation[] {
  const ops: Operation[] = [];
  const seen = new Set<string>();
  for (const r of routesOf(controllers)) {
    if (!r.doc) throw new Error(`${r.where} (${r.method.toUpperCase()} ${r.path}) has no @Doc: document it, or mark it @Undocumented('why')`);
    if ('undocumented' in r.doc) continue;
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) throw new Error(`${key} is served by two handlers (${r.where})`);
    seen.add(key);
    const { body, bodyOptional, ...rest } = r.doc;
    ops.push({
      method: r.method,
      path: r.path,
      role: r.role,
      doc: { ...rest, ...(body ? { body: { schema: bodyName(body, r.where), required: !bodyOptional } } : {}) },
    });
  }
  ops.push(GRAPHQL_OPERATION);
  // Stable sort: within a tag, the order Nest registered the routes in.
  return ops.sort((a, b) => TAGS.indexOf(a.doc.tag) - TAGS.indexOf(b.doc.tag));
}

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

/** The components written here (responses, the GraphQL request, the error); bodies come from zod. */
const WRITTEN_SCHEMAS = {
  SanctionsListActivation: obj({
    changed: { type: 'boolean' },
    contentHash: s(),
    size: { type: 'integer' },
    event: { oneOf: [{ $ref: '#/components/schemas/CommandReceipt' }, { type: 'null' }] },
  }),
  FlattenResult: obj({
    request: { oneOf: [{ $ref: '#/components/schemas/CommandReceipt' }, { type: 'null' }], description: 'The FlattenRequested event; null when nothing was to be sold (nothing recorded)' },
    sales: {
      type: 'array',
      description: 'One inventory sale (a saga, stream arbitrage-<opportunityId>) per held mint',
      items: obj({
        opportunityId: s('UUID'),
        route: obj({ mintA: s('the inventory sold'), mintB: s('the base token it goes back to'), symbolA: s(), symbolB: s(), decimalsA: { type: 'integer' }, decimalsB: { type: 'integer' } }),
        amountIn: s('base units of mintA sold (decimal string)'),
      }),
    },
    skipped: { type: 'array', items: obj({ mint: s(), amountBaseUnits: s(), reason: s() }) },
    message: s('What was started, or why nothing was'),
  }),
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
  Readiness: obj(
    {
      status: s(),
      engine: obj({
        role: s('leader, standby or single (ENGINE_HA off)'),
        node: s('This node (ENGINE_NODE_ID)'),
        holder: { type: ['string', 'null'] },
        epoch: { type: ['string', 'null'] },
        token: { type: ['string', 'null'], description: 'While this node leads: its fencing token' },
        settings: {
          type: ['object', 'null'],
          description: "This node's decision settings against the leader's (README: High availability)",
          properties: { version: s(), comparedWith: s(), epoch: s(), leaderVersion: { type: ['string', 'null'] }, differ: { type: 'array', items: s() } },
        },
      }),
      checks: { type: 'object', additionalProperties: { type: 'string' } },
    },
    ['status'],
  ),
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
} satisfies Record<string, unknown>;

export type ResponseSchemaName = keyof typeof WRITTEN_SCHEMAS;

/** The components: every body the operations use (generated from its zod schema), then the written ones. */
function componentsOf(ops: readonly Operation[]): Record<string, unknown> {
  const bodies: Record<string, unknown> = {};
  for (const op of ops) {
    const name = op.doc.body?.schema;
    if (name && !(name in WRITTEN_SCHEMAS)) bodies[name] ??= bodyJsonSchema((bodySchemas as unknown as Record<string, BodySchema>)[name]);
  }
  return { ...bodies, ...WRITTEN_SCHEMAS };
}

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

/** The OpenAPI document of the routes of these controllers (the app's: DocsController discovers them). */
export function openApiDocument(controllers: readonly Type[]): Record<string, unknown> {
  const ops = operationsOf(controllers);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, path, role, doc: op } of ops) {
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
    const roleText = role === null ? 'Public (no key).' : `Needs an API key with the **${role}** role${role === 'admin' ? '' : ' (or admin)'}${role === 'viewer' ? ': any valid key' : ''}.`;
    (paths[path] ??= {})[method] = {
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, roleText].filter(Boolean).join('\n\n'),
      operationId: `${method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      'x-required-role': role,
      security: role === null ? [] : [{ bearer: [] }, { apiKey: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? { requestBody: { required: op.body.required, content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.body.schema}` } } } } }
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
    tags: TAGS.map((name) => ({ name })),
    paths,
    components: {
      schemas: componentsOf(ops),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer arb_<keyId>_<secret>' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}

const escape = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained page listing every endpoint (no CDN: nothing outside is reachable). */
export function docsHtml(controllers: readonly Type[]): string {
  const ops = operationsOf(controllers);
  const rows = ops.map(
    ({ method, path, role, doc: op }) => `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${role ?? 'public'}</td><td>${escape(op.summary)}${
      op.description ? `<br><small>${escape(op.description)}</small>` : ''
    }${op.body ? `<br><small>body: <a href="#${op.body.schema}">${op.body.schema}</a></small>` : ''}</td></tr>`,
  ).join('\n');
  const schemas = Object.entries(componentsOf(ops))
    .map(([name, schema]) => `<h3 id="${name}">${name}</h3><pre>${escape(JSON.stringify(schema, null, 2))}</pre>`)
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Arbiter API</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}td{padding:.3em .6em;vertical-align:top;border-bottom:1px solid #ddd}pre{background:#f6f6f6;padding:.6em}</style></head>
<body><h1>Arbiter control plane</h1><p>OpenAPI 3.1: <a href="/docs/openapi.json">/docs/openapi.json</a>. Send a key as <code>Authorization: Bearer arb_…</code> or <code>X-API-Key</code>; commands take an optional <code>Idempotency-Key</code> header.</p>
<table><tr><th>Method</th><th>Path</th><th>Role</th><th>What</th></tr>
${rows}</table><h2>Schemas</h2>${schemas}</body></html>`;
}
