// Pieces of the control plane without a server: body validation messages, deterministic event
// ids, canonical JSON for idempotency fingerprints, the append-with-retry of command handlers,
// and the OpenAPI document against the controllers' own route and role metadata.
import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { Controller, Get, RequestMethod } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ReasonBody, RiskLimitsBody, readBody, schemaProblems, FlagActionBody } from '../../../src/api/http/body-schema.js';
import { requestFingerprint } from '../../../src/api/http/idempotency.js';
import { openApiDocument, routesOf } from '../../../src/api/http/openapi.js';
import { AppModule } from '../../../src/app.module.js';
import { PUBLIC_ROUTE, REQUIRED_ROLE } from '../../../src/api/auth/decorators.js';
import { controllersOf } from '../../support/app-controllers.js';
import { ConcurrentCommandError, decideAndAppendOne, deterministicUuid } from '../../../src/ledger/decide-and-append.js';
import { WrongExpectedRevisionError } from '../../../src/ledger/errors.js';
import type { EventStore } from '../../../src/ledger/event-store.port.js';
import type { NewEvent, RecordedEvent } from '../../../src/ledger/envelope.js';
import { riskLimitsToJson, defaultRiskLimits } from '../../../src/risk/limits.js';
import { UUID_RE } from '../../../src/ledger/schema.js';
import { roleAllows } from '../../../src/api/auth/api-keys.js';
import { presentedKey, actorOf } from '../../../src/api/auth/principal.js';

const json = { 'content-type': 'application/json' };

describe('body validation', () => {
  it('names every problem with its field', () => {
    expect(schemaProblems(ReasonBody, { reason: 1, extra: true }, '')).toEqual([
      'reason must be a string (got a number)',
      'extra is not a known field (known: reason)',
    ]);
    expect(schemaProblems(ReasonBody, {}, '')).toEqual(['reason is required']);
    expect(schemaProblems(ReasonBody, { reason: ' \n' }, '')).toEqual(['reason must not be blank']);
    expect(schemaProblems(FlagActionBody, { note: 'n', action: 'delete' }, '')).toEqual(['action must be one of review, close']);
    const limits = { ...riskLimitsToJson(defaultRiskLimits({})), circuitBreaker: { consecutiveFailedFills: 2.5, deviationSpikeBps: 500, x: 1 } };
    expect(schemaProblems(RiskLimitsBody, { reason: 'r', limits }, '')).toEqual([
      'limits.circuitBreaker.consecutiveFailedFills must be an integer or a string of digits (got a number)',
      'limits.circuitBreaker.x is not a known field (known: consecutiveFailedFills, deviationSpikeBps)',
    ]);
  });

  it('documents each body with the JSON Schema generated from the zod schema it is validated with', () => {
    const schemas = (openApiDocument(controllersOf(AppModule)) as { components: { schemas: Record<string, any> } }).components.schemas;
    expect(schemas.ReasonBody).toMatchObject({ type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } } });
    expect(schemas.ReasonBody).not.toHaveProperty('$schema');
    expect(schemas.RiskLimitsBody.properties.limits.properties.circuitBreaker).toMatchObject({ additionalProperties: false, required: ['consecutiveFailedFills', 'deviationSpikeBps'] });
    expect(schemas.RiskLimitsBody.properties.limits.properties.maxOrdersPerMinute.anyOf).toEqual([expect.objectContaining({ type: 'integer' }), expect.objectContaining({ type: 'string', pattern: '^\\d+$' })]);
    expect(schemas.FlagActionBody.required).toEqual(['note']);
    expect(schemas.FlagActionBody.properties.action.enum).toEqual(['review', 'close']);
    expect(schemas.WebhookSubscriptionBody.properties.eventTypes).toMatchObject({ type: 'array', minItems: 1 });
  });

  it('refuses a body that is not JSON (415) or missing (400)', () => {
    expect(() => readBody({ body: 'reason', headers: { 'content-type': 'text/plain' } }, ReasonBody)).toThrow(/Content-Type: application\/json/);
    try {
      readBody({ body: 'reason', headers: { 'content-type': 'text/plain' } }, ReasonBody);
    } catch (e) {
      expect((e as { getStatus(): number }).getStatus()).toBe(415);
    }
    expect(() => readBody({ body: undefined, headers: {} }, ReasonBody)).toThrow(/JSON body is required/);
    expect(readBody({ body: { reason: 'ok' }, headers: json }, ReasonBody)).toEqual({ reason: 'ok' });
    expect(readBody({ body: undefined, headers: {} }, ReasonBody, { optional: true })).toEqual({});
  });
});

describe('idempotency helpers', () => {
  it('derives the same UUID from the same parts and a different one otherwise', () => {
    const a = deterministicUuid('arbiter-idempotency', 'key1', 'k');
    expect(a).toMatch(UUID_RE);
    expect(a[14]).toBe('5');
    expect(deterministicUuid('arbiter-idempotency', 'key1', 'k')).toBe(a);
    expect(deterministicUuid('arbiter-idempotency', 'key2', 'k')).not.toBe(a);
    expect(deterministicUuid('arbiter-idempotency', 'key1k', '')).not.toBe(a);
  });

  it('writes JSON with sorted keys so key order does not change the fingerprint', () => {
    const fp = requestFingerprint('PUT /x', {}, { b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } });
    expect(requestFingerprint('PUT /x', {}, { a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 })).toBe(fp);
    expect(requestFingerprint('PUT /x', {}, { a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1, e: undefined })).toBe(fp);
    expect(requestFingerprint('PUT /x', {}, { a: { c: null, d: [{ y: 2, z: 1 }, 1] }, b: 1 })).not.toBe(fp);
    expect(requestFingerprint('PUT /y', {}, { b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).not.toBe(fp);
    // A float is fingerprinted (validation refuses it afterwards with a 400), not a crash.
    expect(requestFingerprint('PUT /x', {}, { a: 2.5 })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('auth helpers', () => {
  it('reads the key from Authorization: Bearer or X-API-Key, and forms the actor', () => {
    expect(presentedKey({ authorization: 'Bearer arb_x' })).toBe('arb_x');
    expect(presentedKey({ 'x-api-key': ' arb_y ' })).toBe('arb_y');
    expect(presentedKey({})).toBeNull();
    expect(actorOf({ keyId: 'abcdefabcdef', role: 'operator', label: 'alice' })).toBe('apikey:abcdefabcdef:alice');
  });

  it('lets admin do everything, every role read, and others only their own', () => {
    expect(roleAllows('admin', 'risk')).toBe(true);
    expect(roleAllows('compliance', 'viewer')).toBe(true);
    expect(roleAllows('operator', 'risk')).toBe(false);
    expect(roleAllows('viewer', 'operator')).toBe(false);
  });
});

describe('decideAndAppendOne', () => {
  const recorded = (e: NewEvent, revision: bigint, position: bigint): RecordedEvent => ({ ...e, streamId: 's', revision, position, contentHash: '', prevHash: '', hash: '' });
  const ev = (id: string): NewEvent => ({ id, type: 'T', version: 1, payload: {}, recordedAt: '2026-01-01T00:00:00.000Z', metadata: { correlationId: 'c', causationId: null, actor: 'a', tenant: 'default' } });

  function fakeStore(opts: { conflicts: number }) {
    const log: RecordedEvent[] = [];
    let conflicts = opts.conflicts;
    const store = {
      readStream: async () => [...log],
      append: async (_s: string, events: NewEvent[], expected: unknown) => {
        if (conflicts > 0) {
          conflicts--;
          log.push(recorded(ev(crypto.randomUUID()), BigInt(log.length), BigInt(log.length + 1))); // someone else wrote
          throw new WrongExpectedRevisionError('s', expected as bigint, BigInt(log.length - 1));
        }
        log.push(recorded(events[0], BigInt(log.length), BigInt(log.length + 1)));
        return { nextRevision: BigInt(log.length - 1), position: BigInt(log.length), positions: [BigInt(log.length)], duplicate: false };
      },
    } as unknown as EventStore;
    return { store, log };
  }

  it('reloads and decides again once when another writer got there first', async () => {
    const { store, log } = fakeStore({ conflicts: 1 });
    const seen: number[] = [];
    const r = await decideAndAppendOne(store, { streamId: 's', fold: (es) => es.length, decide: (n) => (seen.push(n), ev(crypto.randomUUID())) });
    expect(seen).toEqual([0, 1]);
    expect(r.revision).toBe('1');
    expect(log).toHaveLength(2);
  });

  it('gives up with a 409-mapped error after a second conflict', async () => {
    const { store } = fakeStore({ conflicts: 2 });
    await expect(decideAndAppendOne(store, { streamId: 's', fold: () => null, decide: () => ev(crypto.randomUUID()) })).rejects.toBeInstanceOf(ConcurrentCommandError);
  });

  it('returns the recorded event instead of deciding again when its id is already in the stream', async () => {
    const { store, log } = fakeStore({ conflicts: 0 });
    const id = deterministicUuid('x');
    await decideAndAppendOne(store, { streamId: 's', eventId: id, fold: () => null, decide: () => ev(crypto.randomUUID()) });
    const again = await decideAndAppendOne(store, { streamId: 's', eventId: id, fold: () => null, decide: () => new Error('would refuse: already done') });
    expect(again.eventId).toBe(id);
    expect(log).toHaveLength(1);
  });
});

describe('OpenAPI document', () => {
  const controllers = controllersOf(AppModule);

  it('documents every route of every controller the app registers, and nothing that does not exist', () => {
    const routes = routesOf(controllers);
    expect(routes.filter((r) => !r.doc).map((r) => r.where)).toEqual([]);
    // Left out on purpose: static files, not an API.
    const undocumented = routes.filter((r) => r.doc && 'undocumented' in r.doc).map((r) => `${r.method} ${r.path}`);
    expect(undocumented.sort()).toEqual(['get /console', 'get /console/*', 'get /graphiql', 'get /graphiql/assets/{name}']);
    const served = routes.filter((r) => r.doc && !('undocumented' in r.doc)).map((r) => `${r.method} ${r.path}`);
    const doc = openApiDocument(controllers) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect([...served, 'post /graphql'].sort()).toEqual(documented.sort());
    expect(served).toEqual(expect.arrayContaining(['put /risk/limits', 'get /health', 'delete /webhooks/subscriptions/{id}', 'get /audit/export']));
  });

  it("gives each operation the role the API key guard enforces on its route", () => {
    const doc = openApiDocument(controllers) as { paths: Record<string, Record<string, { 'x-required-role': string | null; security: unknown[] }>> };
    const reflector = new Reflector();
    const verbs: Record<number, string> = { [RequestMethod.GET]: 'get', [RequestMethod.POST]: 'post', [RequestMethod.PUT]: 'put', [RequestMethod.DELETE]: 'delete', [RequestMethod.PATCH]: 'patch' };
    let checked = 0;
    for (const controller of controllers) {
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const fn = controller.prototype[name];
        if (name === 'constructor' || Reflect.getMetadata(PATH_METADATA, fn) === undefined) continue;
        const path = `/${[Reflect.getMetadata(PATH_METADATA, controller), Reflect.getMetadata(PATH_METADATA, fn)].map((p) => String(p).replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`.replace(/:(\w+)/g, '{$1}');
        const op = doc.paths[path]?.[verbs[Reflect.getMetadata(METHOD_METADATA, fn) as number]];
        if (!op) continue; // @Undocumented (checked above)
        // What the guard reads (api-key.guard.ts), read here with the Reflector directly.
        const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [fn, controller]);
        const role = isPublic ? null : (reflector.getAllAndOverride<string>(REQUIRED_ROLE, [fn, controller]) ?? 'viewer');
        expect(op['x-required-role'], `${name} ${path}`).toBe(role);
        expect(op.security.length === 0, path).toBe(role === null);
        checked++;
      }
    }
    expect(checked).toBe(Object.values(doc.paths).flatMap((ops) => Object.keys(ops)).length - 1); // all but POST /graphql
    expect(doc.paths['/risk/limits'].put['x-required-role']).toBe('risk');
    expect(doc.paths['/keys/{id}'].delete['x-required-role']).toBe('admin');
    expect(doc.paths['/projections/{name}/rebuild'].get['x-required-role']).toBe('viewer');
    expect(doc.paths['/health'].get['x-required-role']).toBeNull();
    expect(doc.paths['/graphql'].post['x-required-role']).toBe('viewer');
  });

  it('refuses a route with neither @Doc nor @Undocumented', () => {
    @Controller('x')
    class Bare {
      @Get('y')
      y() {}
    }
    expect(() => openApiDocument([...controllers, Bare])).toThrow(/Bare\.y \(GET \/x\/y\) has no @Doc/);
  });
});
