// Idempotency-Key for the command endpoints. The first request with a key claims a row in
// api_idempotency (status 'pending') before it runs, so a concurrent duplicate waits for it and
// then gets the same answer instead of writing again; the answer (success or 4xx refusal) is kept
// and replayed for later retries. The key also fixes the id of the event the command writes
// (deterministicUuid of API key id + Idempotency-Key): even if the process dies between the
// append and saving the answer, a retry finds its event in the stream instead of acting twice.
// Same key with another body (or route) → 422. Records are bounded per API key
// (IDEMPOTENCY_MAX_RECORDS_PER_KEY): claiming a new one drops that key's oldest finished ones
// beyond the bound, so one key cannot grow the table without limit; a dropped key's retry still
// writes nothing new (its event id is fixed by the key).
import { BadRequestException, ConflictException, HttpException, Inject, Injectable, UnprocessableEntityException, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { canonicalJson } from '../../shared/canonical-json.js';
import { deterministicUuid } from '../../shared/ids.js';
import { sha256Hex } from '../../ledger/hash-chain.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import type { CommandContext } from '../../ledger/decide-and-append.js';
import type { ApiKeyPrincipal } from '../auth/api-keys.js';
import { actorOf, principalOf } from '../auth/principal.js';
import { ReplayedResponse, toErrorResponse } from './errors.js';
import { correlationIdOf } from './request-context.js';
import { setTimeout as sleep } from 'node:timers/promises';

const KEY_RE = /^[\x21-\x7e]{1,200}$/;
/** A claim older than this belongs to a request that died; a retry may take it over. */
const STALE_CLAIM_SECONDS = 120;
const WAIT_FOR_DUPLICATE_MS = 15_000;

/**
 * The fingerprint of a request: route, path parameters and body in the one canonical JSON (RFC
 * 8785; a body may hold a float that validation refuses later, so every finite number is taken).
 * For every JSON body it is the same text the earlier hand-written sort gave, so fingerprints
 * stored before stay valid (test/unit/ledger/ledger-fixture.test.ts).
 */
export function requestFingerprint(route: string, params: unknown, body: unknown): string {
  return sha256Hex(`${route}\n${canonicalJson(params ?? {}, { numbers: 'any' })}\n${canonicalJson(body ?? null, { numbers: 'any' })}`);
}

interface Row {
  fingerprint: string;
  status: 'pending' | 'done';
  response_status: number | null;
  response_body: unknown;
  age: number | string;
}

/** Days an idempotent answer can be replayed as it was. */
export const IDEMPOTENCY_RETENTION_DAYS = 7;

@Injectable()
export class IdempotencyService implements OnApplicationBootstrap, OnApplicationShutdown {
  private pruner: NodeJS.Timeout | null = null;

  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    private readonly metrics: Metrics,
    @Inject(API_CONFIG) private readonly config: Pick<ApiConfig, 'idempotencyMaxRecordsPerKey'>,
  ) {}

  /** Drops the API key's oldest finished records beyond the bound; returns how many went. */
  async trim(keyId: string, keep = this.config.idempotencyMaxRecordsPerKey): Promise<number> {
    const r = await this.sql.query(
      `DELETE FROM api_idempotency WHERE key_id = $1 AND status = 'done' AND idempotency_key IN (
         SELECT idempotency_key FROM api_idempotency WHERE key_id = $1
          ORDER BY created_at DESC, idempotency_key DESC OFFSET $2)`,
      [keyId, keep],
    );
    return r.rowCount;
  }

  /**
   * Keeps a week of replayable answers. Past that a retry is still safe: its event id is derived
   * from the key, so the event store treats the re-append as the same event.
   */
  async prune(olderThanDays = IDEMPOTENCY_RETENTION_DAYS): Promise<number> {
    const r = await this.sql.query(
      `DELETE FROM api_idempotency WHERE status = 'done' AND created_at < now() - make_interval(days => $1)`,
      [olderThanDays],
    );
    return r.rowCount;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.prune().catch(() => undefined);
    this.pruner = setInterval(() => void this.prune().catch(() => undefined), 3_600_000);
    this.pruner.unref();
  }

  onApplicationShutdown(): void {
    if (this.pruner) clearInterval(this.pruner);
  }

  /**
   * Runs a command once per Idempotency-Key. `route` and `params` identify the operation; `body`
   * is the validated request body. `exec` receives the command context (actor, correlation id,
   * event id) and returns the response body; a thrown 4xx is recorded too, a 5xx is not (the
   * client may retry).
   */
  async run<T>(
    req: object & { headers: Record<string, string | string[] | undefined> },
    op: {
      route: string;
      params?: Record<string, string>;
      body: unknown;
      /** Status of a success (replayed with it). */
      successStatus: number;
      /** What to keep for replay instead of the result (e.g. without a secret shown once). */
      recordAs?: (result: T) => unknown;
    },
    exec: (ctx: CommandContext, principal: ApiKeyPrincipal) => Promise<T>,
  ): Promise<T> {
    const principal = await principalOf(this.sql, req);
    if (!principal) throw new HttpException('missing or invalid API key', 401); // the guard ran; defensive
    const correlationId = correlationIdOf(req);
    const raw = req.headers['idempotency-key'];
    const ctx: CommandContext = { actor: actorOf(principal), correlationId };
    if (raw === undefined) return exec(ctx, principal);
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (!KEY_RE.test(key)) throw new BadRequestException('Idempotency-Key must be 1–200 visible ASCII characters (a UUID is a good choice)');
    ctx.eventId = deterministicUuid('arbiter-idempotency', principal.keyId, key);
    const fingerprint = requestFingerprint(op.route, op.params, op.body);

    // Not claimed: replay the recorded answer, or (the first request failed with a 5xx and let
    // the key go) try to claim it again.
    while (!(await this.claim(principal.keyId, key, fingerprint))) await this.replay(principal.keyId, key, fingerprint, op.route);
    try {
      const result = await exec(ctx, principal);
      await this.finish(principal.keyId, key, op.successStatus, op.recordAs ? op.recordAs(result) : result);
      return result;
    } catch (err) {
      const { status, body: errorBody } = toErrorResponse(err, correlationId);
      if (status < 500) await this.finish(principal.keyId, key, status, errorBody).catch(() => undefined);
      else await this.release(principal.keyId, key);
      throw err;
    }
  }

  /** True when this request now owns the key (new, or taken over from a request that died). */
  private async claim(keyId: string, key: string, fingerprint: string): Promise<boolean> {
    const ins = await this.sql.query(
      `INSERT INTO api_idempotency (key_id, idempotency_key, fingerprint, status) VALUES ($1, $2, $3, 'pending')
       ON CONFLICT (key_id, idempotency_key) DO NOTHING`,
      [keyId, key, fingerprint],
    );
    if (ins.rowCount === 1) {
      await this.trim(keyId).catch(() => undefined);
      return true;
    }
    const takeover = await this.sql.query(
      `UPDATE api_idempotency SET updated_at = now()
        WHERE key_id = $1 AND idempotency_key = $2 AND fingerprint = $3 AND status = 'pending'
          AND updated_at < now() - make_interval(secs => $4)`,
      [keyId, key, fingerprint, STALE_CLAIM_SECONDS],
    );
    return takeover.rowCount === 1;
  }

  /** Throws the recorded answer (or a 422/409); returns when the key is free again. */
  private async replay(keyId: string, key: string, fingerprint: string, route: string): Promise<void> {
    const deadline = Date.now() + WAIT_FOR_DUPLICATE_MS;
    for (;;) {
      const { rows } = await this.sql.query<Row>(
        `SELECT fingerprint, status, response_status, response_body, extract(epoch FROM now() - updated_at) AS age
           FROM api_idempotency WHERE key_id = $1 AND idempotency_key = $2`,
        [keyId, key],
      );
      const row = rows[0];
      if (row && row.fingerprint !== fingerprint) {
        throw new UnprocessableEntityException(
          'this Idempotency-Key was already used for a different request (another body or endpoint); use a new key for a new request',
        );
      }
      if (row?.status === 'done') {
        this.metrics.idempotentReplaysTotal.inc({ route });
        throw new ReplayedResponse(row.response_status ?? 200, row.response_body);
      }
      if (!row) return;
      if (Date.now() > deadline) {
        throw new ConflictException('a request with this Idempotency-Key is still being processed; retry in a moment');
      }
      await sleep(25);
    }
  }

  private async finish(keyId: string, key: string, status: number, body: unknown): Promise<void> {
    await this.sql.query(
      `UPDATE api_idempotency SET status = 'done', response_status = $3, response_body = $4::jsonb, updated_at = now()
        WHERE key_id = $1 AND idempotency_key = $2`,
      [keyId, key, status, JSON.stringify(body ?? null)],
    );
  }

  private async release(keyId: string, key: string): Promise<void> {
    await this.sql.query(`DELETE FROM api_idempotency WHERE key_id = $1 AND idempotency_key = $2 AND status = 'pending'`, [keyId, key]).catch(() => undefined);
  }
}
