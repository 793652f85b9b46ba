// Request bodies declared once, in zod (v4): the same schemas validate requests and, through
// z.toJSONSchema, appear in the OpenAPI document (openapi.ts), so the two cannot drift apart.
// `schemaProblems` lists every problem at once, each naming its field ("reason must be a string
// (got a number)", "extra is not a known field (known: reason)"); readBody answers 400 with them.
import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import { z } from 'zod';
import { NOTIFIABLE_EVENT_TYPES } from '../../notifications/events.js';
import { unstorableReason } from '../../shared/text/storable.js';

/** A request body schema. */
export type BodySchema = z.ZodObject;

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
/** "is required" when absent, else the text with what was sent. */
const wrongType = (text: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : `${text} (got ${typeName(iss.input)})`);

/** A string PostgreSQL can store (no NUL, no lone surrogate). */
const storableString = () =>
  z.string({ error: wrongType('must be a string') }).check((ctx) => {
    const why = unstorableReason(ctx.value);
    if (why) ctx.issues.push({ code: 'custom', message: why, input: ctx.value, abort: true });
  });

const bounded = (s: z.ZodString, min: number | undefined, max: number | undefined) => {
  let out = s;
  if (min !== undefined) out = out.min(min, { error: `must have at least ${min} character${min === 1 ? '' : 's'}`, abort: true });
  if (max !== undefined) out = out.max(max, { error: `must have at most ${max} characters`, abort: true });
  return out;
};

const text = (max: number, description: string, pattern = /\S/, patternMessage = 'must not be blank') =>
  bounded(storableString(), 1, max).regex(pattern, { error: patternMessage }).describe(description);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => (iss.input === undefined ? 'is required' : `must be one of ${values.join(', ')}`) });

const body = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: wrongType('must be a JSON object') });

export const reasonSchema = text(2000, 'Why: kept in the audit log with the actor');

export const ReasonBody = body({ reason: reasonSchema }).meta({ examples: [{ reason: 'Pyth feed for SOL/USDC is lagging' }] });

const limitValue = (description: string) =>
  z
    .union([z.int(), z.string().regex(/^\d+$/)], { error: wrongType('must be an integer or a string of digits') })
    .describe(`${description} (an integer, or a string of digits for values beyond 2^53)`);

/** The full set of limits (PUT replaces it); ranges are checked by validateRiskLimits. */
export const RiskLimitsSchema = body({
  maxPriceAgeSeconds: limitValue('Oldest price accepted, seconds (1–3600)'),
  maxConfidenceBps: limitValue('Widest Pyth confidence interval accepted, bps (0–10000)'),
  maxPriceDeviationBps: limitValue('Largest quote/oracle deviation accepted, bps (0–10000)'),
  maxSlippageBps: limitValue('Slippage tolerance, bps (0–10000)'),
  minProfitBaseUnits: limitValue('Smallest expected profit, base units of the input mint (≥ 0)'),
  maxNotionalPerTradeUsdMicros: limitValue('Largest trade, USD micro-units (≥ 1)'),
  maxExposurePerTokenUsdMicros: limitValue('Largest exposure to one token, USD micro-units (≥ 1)'),
  dailyLossLimitUsdMicros: limitValue('Realised loss per UTC day that stops trading, USD micro-units (≥ 1)'),
  maxOrdersPerMinute: limitValue('Order rate limit (1–100000)'),
  circuitBreaker: body({
    consecutiveFailedFills: limitValue('Failed fills in a row that pause the engine (1–1000)'),
    deviationSpikeBps: limitValue('Deviation that pauses the engine, bps (≥ maxPriceDeviationBps)'),
  }),
});

export const RiskLimitsBody = body({ reason: reasonSchema, limits: RiskLimitsSchema });

export const SanctionsListBody = body({
  reason: reasonSchema,
  entries: z
    .array(bounded(storableString(), 1, 128), { error: wrongType('must be an array') })
    .max(1_000_000, { error: 'must have at most 1000000 items' })
    .describe('The whole list of sanctioned addresses (replaces the list in force; order and duplicates do not matter; [] empties it)'),
});

export const FlagActionBody = body({
  action: oneOf(['review', 'close']).optional().describe("'review' (open → reviewed, the default) or 'close' (reviewed → closed)"),
  note: text(4000, 'What was looked at and why'),
  outcome: oneOf(['dismissed', 'reported']).optional().describe("Only with action 'close'"),
}).meta({ examples: [{ action: 'review', note: 'Counterparty checked against the list of 2026-11-01' }] });

export const IssueKeyBody = body({
  role: oneOf(['viewer', 'operator', 'risk', 'compliance', 'admin']),
  label: text(100, 'Who or what the key is for (recorded in the actor of every event it causes)', /^[\x20-\x7e]*\S[\x20-\x7e]*$/, 'must be printable ASCII and not blank'),
});

export const RevokeKeyBody = body({ reason: reasonSchema.optional() });

const NOTIFIABLE = NOTIFIABLE_EVENT_TYPES;

const webhookFields = {
  url: bounded(storableString(), 1, 2000).describe('Where to POST: http or https; with WEBHOOK_ALLOWED_HOSTS set, its host must be on the list'),
  eventTypes: z
    .array(oneOf(NOTIFIABLE), { error: wrongType('must be an array') })
    .min(1, { error: 'must have at least 1 item' })
    .max(NOTIFIABLE.length, { error: `must have at most ${NOTIFIABLE.length} items` })
    .refine((a) => new Set(a).size === a.length, { error: 'must not list an item twice' })
    .describe('The event types to deliver'),
  minSeverity: oneOf(['any', 'advisory', 'blocking']).optional().describe("ComplianceFlagRaised only at least this severe ('any', the default, delivers all)"),
  description: bounded(storableString(), undefined, 500).optional().describe('What the receiver is (shown in the list)'),
};

export const WebhookSubscriptionBody = body(webhookFields).meta({
  examples: [{ url: 'https://hooks.example.com/arbiter', eventTypes: ['EnginePaused', 'ComplianceFlagRaised'], minSeverity: 'blocking', description: 'on-call bridge' }],
});

export const WebhookSubscriptionChangeBody = body({
  reason: reasonSchema,
  url: webhookFields.url.optional(),
  eventTypes: webhookFields.eventTypes.optional(),
  minSeverity: webhookFields.minSeverity,
  description: webhookFields.description,
}).meta({ examples: [{ reason: 'receiver moved', url: 'https://hooks2.example.com/arbiter' }] });

/** The object schema at `path` inside `schema` (through optionals and arrays), for naming known fields. */
function objectAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodObject | null {
  let s: z.ZodType = schema;
  for (const k of path) {
    while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    if (s instanceof z.ZodObject && typeof k === 'string') s = s.shape[k] as z.ZodType;
    else if (s instanceof z.ZodArray && typeof k === 'number') s = s.element as z.ZodType;
    else return null;
  }
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? s : null;
}

const pathText = (prefix: string, path: readonly PropertyKey[]) =>
  path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), prefix);

/** Problems of `value` against `schema`, each naming the field. */
export function schemaProblems(schema: z.ZodType, value: unknown, path: string, problems: string[] = []): string[] {
  const r = schema.safeParse(value);
  if (r.success) return problems;
  for (const issue of r.error.issues) {
    const at = pathText(path, issue.path);
    if (issue.code !== 'unrecognized_keys') {
      problems.push(`${at || 'body'} ${issue.message}`);
      continue;
    }
    const known = Object.keys(objectAt(schema, issue.path)?.shape ?? {}).join(', ');
    for (const k of issue.keys) {
      const badName = unstorableReason(k);
      if (badName) problems.push(`a field name under ${at || 'body'} ${badName}`);
      else problems.push(`${pathText(at, [k])} is not a known field (known: ${known})`);
    }
  }
  return problems;
}

/** The fields a body must have, for the "a JSON body is required" message. */
const requiredFields = (schema: BodySchema) => Object.entries(schema.shape).filter(([, s]) => !(s as z.ZodType).safeParse(undefined).success).map(([k]) => k);

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
export function readBody<S extends BodySchema>(req: BodyRequest, schema: S, opts: { optional?: boolean } = {}): z.output<S> {
  const ct = typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : '';
  if (req.body === undefined || req.body === null || (req.body === '' && !ct)) {
    if (opts.optional) return {} as z.output<S>;
    if (ct && !isJsonType(ct)) throw new UnsupportedMediaTypeException(`send the body as JSON with 'Content-Type: application/json' (got '${ct}')`);
    throw new InvalidBodyException([`a JSON body is required (Content-Type: application/json) with ${requiredFields(schema).join(', ')}`]);
  }
  if (!isJsonType(ct)) throw new UnsupportedMediaTypeException(`send the body as JSON with 'Content-Type: application/json' (got '${ct || 'none'}')`);
  const problems = schemaProblems(schema, req.body, '');
  if (problems.length) throw new InvalidBodyException(problems);
  // The body as sent (not zod's output): the idempotency fingerprint and the events use what came.
  return req.body as z.output<S>;
}
