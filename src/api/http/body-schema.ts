// Request bodies described once, as JSON Schema: the same objects validate requests and appear
// in the OpenAPI document, so the two cannot drift apart. Only the few keywords used here are
// supported (type, properties, required, additionalProperties: false, minLength, maxLength,
// pattern, enum, minimum, maximum, oneOf of types for integer-or-digit-string values, arrays with
// items, minItems, maxItems and uniqueItems).
import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import { NOTIFIABLE_EVENT_TYPES } from '../../notifications/events.js';
import { unstorableReason } from '../../shared/text/storable.js';

export interface JsonSchema {
  type?: 'object' | 'string' | 'integer' | 'boolean' | 'array';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: false;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  examples?: unknown[];
  /** Shown in the message when a pattern does not match. */
  'x-pattern-message'?: string;
}

const NOT_BLANK = '\\S';

const text = (max: number, description: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  maxLength: max,
  pattern: NOT_BLANK,
  'x-pattern-message': 'must not be blank',
  description,
});

export const reasonSchema = text(2000, 'Why: kept in the audit log with the actor');

export const ReasonBody: JsonSchema = {
  type: 'object',
  properties: { reason: reasonSchema },
  required: ['reason'],
  additionalProperties: false,
  examples: [{ reason: 'Pyth feed for SOL/USDC is lagging' }],
};

const limitValue = (description: string): JsonSchema => ({
  description: `${description} (an integer, or a string of digits for values beyond 2^53)`,
  oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^\\d+$' }],
});

/** The full set of limits (PUT replaces it); ranges are checked by validateRiskLimits. */
export const RiskLimitsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'maxPriceAgeSeconds',
    'maxConfidenceBps',
    'maxPriceDeviationBps',
    'maxSlippageBps',
    'minProfitBaseUnits',
    'maxNotionalPerTradeUsdMicros',
    'maxExposurePerTokenUsdMicros',
    'dailyLossLimitUsdMicros',
    'maxOrdersPerMinute',
    'circuitBreaker',
  ],
  properties: {
    maxPriceAgeSeconds: limitValue('Oldest price accepted, seconds (1–3600)'),
    maxConfidenceBps: limitValue('Widest Pyth confidence interval accepted, bps (0–10000)'),
    maxPriceDeviationBps: limitValue('Largest quote/oracle deviation accepted, bps (0–10000)'),
    maxSlippageBps: limitValue('Slippage tolerance, bps (0–10000)'),
    minProfitBaseUnits: limitValue('Smallest expected profit, base units of the input mint (≥ 0)'),
    maxNotionalPerTradeUsdMicros: limitValue('Largest trade, USD micro-units (≥ 1)'),
    maxExposurePerTokenUsdMicros: limitValue('Largest exposure to one token, USD micro-units (≥ 1)'),
    dailyLossLimitUsdMicros: limitValue('Realised loss per UTC day that stops trading, USD micro-units (≥ 1)'),
    maxOrdersPerMinute: limitValue('Order rate limit (1–100000)'),
    circuitBreaker: {
      type: 'object',
      additionalProperties: false,
      required: ['consecutiveFailedFills', 'deviationSpikeBps'],
      properties: {
        consecutiveFailedFills: limitValue('Failed fills in a row that pause the engine (1–1000)'),
        deviationSpikeBps: limitValue('Deviation that pauses the engine, bps (≥ maxPriceDeviationBps)'),
      },
    },
  },
};

export const RiskLimitsBody: JsonSchema = {
  type: 'object',
  properties: { reason: reasonSchema, limits: RiskLimitsSchema },
  required: ['reason', 'limits'],
  additionalProperties: false,
};

export const SanctionsListBody: JsonSchema = {
  type: 'object',
  properties: {
    reason: reasonSchema,
    entries: {
      type: 'array',
      maxItems: 1_000_000,
      items: { type: 'string', minLength: 1, maxLength: 128 },
      description: 'The whole list of sanctioned addresses (replaces the list in force; order and duplicates do not matter; [] empties it)',
    },
  },
  required: ['reason', 'entries'],
  additionalProperties: false,
};

export const FlagActionBody: JsonSchema = {
  type: 'object',
  properties: {
    action: { type: 'string', enum: ['review', 'close'], description: "'review' (open → reviewed, the default) or 'close' (reviewed → closed)" },
    note: text(4000, 'What was looked at and why'),
    outcome: { type: 'string', enum: ['dismissed', 'reported'], description: "Only with action 'close'" },
  },
  required: ['note'],
  additionalProperties: false,
  examples: [{ action: 'review', note: 'Counterparty checked against the list of 2026-11-01' }],
};

export const IssueKeyBody: JsonSchema = {
  type: 'object',
  properties: {
    role: { type: 'string', enum: ['viewer', 'operator', 'risk', 'compliance', 'admin'] },
    label: { ...text(100, 'Who or what the key is for (recorded in the actor of every event it causes)'), pattern: '^[\\x20-\\x7e]*\\S[\\x20-\\x7e]*$', 'x-pattern-message': 'must be printable ASCII and not blank' },
  },
  required: ['role', 'label'],
  additionalProperties: false,
};

export const RevokeKeyBody: JsonSchema = {
  type: 'object',
  properties: { reason: reasonSchema },
  additionalProperties: false,
};

const NOTIFIABLE = NOTIFIABLE_EVENT_TYPES;

const webhookFields: Record<string, JsonSchema> = {
  url: { type: 'string', minLength: 1, maxLength: 2000, description: 'Where to POST: http or https; with WEBHOOK_ALLOWED_HOSTS set, its host must be on the list' },
  eventTypes: {
    type: 'array',
    minItems: 1,
    maxItems: NOTIFIABLE.length,
    uniqueItems: true,
    items: { type: 'string', enum: NOTIFIABLE },
    description: 'The event types to deliver',
  },
  minSeverity: { type: 'string', enum: ['any', 'advisory', 'blocking'], description: "ComplianceFlagRaised only at least this severe ('any', the default, delivers all)" },
  description: { type: 'string', maxLength: 500, description: 'What the receiver is (shown in the list)' },
};

export const WebhookSubscriptionBody: JsonSchema = {
  type: 'object',
  properties: webhookFields,
  required: ['url', 'eventTypes'],
  additionalProperties: false,
  examples: [{ url: 'https://hooks.example.com/arbiter', eventTypes: ['EnginePaused', 'ComplianceFlagRaised'], minSeverity: 'blocking', description: 'on-call bridge' }],
};

export const WebhookSubscriptionChangeBody: JsonSchema = {
  type: 'object',
  properties: { reason: reasonSchema, ...webhookFields },
  required: ['reason'],
  additionalProperties: false,
  examples: [{ reason: 'receiver moved', url: 'https://hooks2.example.com/arbiter' }],
};

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

/** Problems of `value` against `schema`, each naming the field. */
export function schemaProblems(schema: JsonSchema, value: unknown, path: string, problems: string[] = []): string[] {
  const name = path || 'body';
  if (schema.oneOf) {
    const fits = schema.oneOf.some((s) => schemaProblems(s, value, path).length === 0);
    if (!fits) problems.push(`${name} must be ${schema.oneOf.map((s) => (s.type === 'integer' ? 'an integer' : s.pattern ? 'a string of digits' : `a ${s.type}`)).join(' or ')} (got ${typeName(value)})`);
    return problems;
  }
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${name} must be a JSON object (got ${typeName(value)})`);
        return problems;
      }
      const o = value as Record<string, unknown>;
      const props = schema.properties ?? {};
      for (const k of schema.required ?? []) if (o[k] === undefined) problems.push(`${path ? `${path}.` : ''}${k} is required`);
      for (const [k, v] of Object.entries(o)) {
        const field = path ? `${path}.${k}` : k;
        const badName = unstorableReason(k);
        if (badName) {
          problems.push(`a field name under ${name} ${badName}`);
          continue;
        }
        // Own properties only: `toString`, `constructor` and the like are not fields of ours.
        if (!Object.hasOwn(props, k)) {
          if (schema.additionalProperties === false) problems.push(`${field} is not a known field (known: ${Object.keys(props).join(', ')})`);
          continue;
        }
        if (v !== undefined) schemaProblems(props[k], v, field, problems);
      }
      return problems;
    }
    case 'string': {
      if (typeof value !== 'string') {
        problems.push(`${name} must be a string (got ${typeName(value)})`);
        return problems;
      }
      const unstorable = unstorableReason(value);
      if (unstorable) {
        problems.push(`${name} ${unstorable}`);
        return problems;
      }
      if (schema.enum && !schema.enum.includes(value)) problems.push(`${name} must be one of ${schema.enum.join(', ')}`);
      if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${name} must have at least ${schema.minLength} character${schema.minLength === 1 ? '' : 's'}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${name} must have at most ${schema.maxLength} characters`);
      else if (schema.pattern && value.length >= (schema.minLength ?? 0) && !new RegExp(schema.pattern).test(value)) {
        problems.push(`${name} ${schema['x-pattern-message'] ?? `must match ${schema.pattern}`}`);
      }
      return problems;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) problems.push(`${name} must be an integer (got ${typeName(value)}${typeof value === 'number' ? ` ${value}` : ''})`);
      else {
        if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${name} must be ≥ ${schema.minimum}`);
        if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${name} must be ≤ ${schema.maximum}`);
      }
      return problems;
    }
    case 'array': {
      if (!Array.isArray(value)) {
        problems.push(`${name} must be an array (got ${typeName(value)})`);
        return problems;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${name} must have at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${name} must have at most ${schema.maxItems} items`);
      if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) problems.push(`${name} must not list an item twice`);
      if (schema.items) value.forEach((v, i) => schemaProblems(schema.items!, v, `${name}[${i}]`, problems));
      return problems;
    }
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${name} must be true or false (got ${typeName(value)})`);
      return problems;
    default:
      return problems;
  }
}

export class InvalidBodyException extends BadRequestException {
  constructor(readonly problems: string[]) {
    super({ message: `invalid request body: ${problems.join('; ')}`, problems });
  }
}

interface BodyRequest {
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const isJsonType = (ct: string) => /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(ct.trim());

/** The request's JSON body checked against `schema`; throws a 4xx naming every problem. */
export function readBody<T>(req: BodyRequest, schema: JsonSchema, opts: { optional?: boolean } = {}): T {
  const ct = typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : '';
  if (req.body === undefined || req.body === null || (req.body === '' && !ct)) {
    if (opts.optional) return {} as T;
    if (ct && !isJsonType(ct)) throw new UnsupportedMediaTypeException(`send the body as JSON with 'Content-Type: application/json' (got '${ct}')`);
    throw new InvalidBodyException([`a JSON body is required (Content-Type: application/json) with ${(schema.required ?? []).join(', ')}`]);
  }
  if (!isJsonType(ct)) throw new UnsupportedMediaTypeException(`send the body as JSON with 'Content-Type: application/json' (got '${ct || 'none'}')`);
  const problems = schemaProblems(schema, req.body, '');
  if (problems.length) throw new InvalidBodyException(problems);
  return req.body as T;
}
