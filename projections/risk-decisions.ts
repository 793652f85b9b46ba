// Risk read models: every pre-trade check of every assessment (why a trade was let through or
// not, with the figures it was judged on), the engine's current trading mode, and the history of
// every mode and limits change on the `engine` stream with who did it and why.
//
// risk_assessments: one row per RiskAssessed (key: its log position): the trade, the verdict.
// risk_decisions:   one row per check of each assessment (key: position, check index), with its
//                   inputs, limit, observed value, unit and reason; join on position for the rest.
// engine_state:   one row (id 'engine'), absent until the first engine event (mode ACTIVE then).
// engine_history: one row per EnginePaused / EngineResumed / EngineReducing / RiskLimitsChanged,
//                 with the mode in force after it (a limits change keeps the mode).
import type { ProjectionDefinition } from '../src/projections/projection.js';
import type {
  EngineMode,
  EnginePausedPayload,
  RiskAssessedPayload,
  RiskLimitsChangedPayload,
} from '../src/risk/events.js';
import { col, insertJsonRows, intText, upsertRows, type Col } from './sql.js';

const ASSESSMENT_COLS: Col[] = [
  col('position', 'bigint'),
  col('event_id', 'uuid'),
  col('opportunity_id', 'text'),
  col('assessed_at', 'timestamptz'),
  col('approved', 'bool'),
  col('engine_mode', 'text'),
  col('limits_version', 'int'),
  col('failed_checks', 'jsonb'),
  col('input_mint', 'text'),
  col('output_mint', 'text'),
  col('amount_in', 'numeric'),
  col('notional_usd_micros', 'numeric'),
];

// The checks are expanded inside PostgreSQL from the batch's payloads (one JSON parameter):
// ten rows per assessment, so this is the rebuild's hot path; building them in JS and
// shipping them as arrays was several times slower.
const INSERT_CHECKS = `
  INSERT INTO risk_decisions (position, check_index, opportunity_id, check_name, passed, inputs, limit_value, observed, unit, reason)
  SELECT (a->>'position')::bigint, (x.idx - 1)::int, a->>'opportunityId', x.c->>'name', (x.c->>'passed')::boolean,
         COALESCE(x.c->'inputs', '{}'::jsonb), (x.c->>'limit')::numeric, (x.c->>'observed')::numeric, x.c->>'unit', x.c->>'reason'
    FROM jsonb_array_elements($1::jsonb) a, jsonb_array_elements(a->'checks') WITH ORDINALITY AS x(c, idx)`;

const HISTORY_COLS: Col[] = [
  col('position', 'bigint', 'key'),
  col('event_id', 'uuid', 'keep'),
  col('type', 'text', 'keep'),
  col('mode', 'text', 'keep'),
  col('actor', 'text', 'keep'),
  col('reason', 'text', 'keep'),
  col('cause', 'text', 'keep'),
  col('detail', 'jsonb', 'keep'),
  col('limits', 'jsonb', 'keep'),
  col('limits_version', 'int', 'keep'),
  col('at', 'timestamptz', 'keep'),
];

const STATE_COLS: Col[] = [
  col('id', 'text', 'key'),
  col('mode', 'text', 'put'),
  col('since', 'timestamptz', 'put'),
  col('actor', 'text', 'put'),
  col('reason', 'text', 'put'),
  col('cause', 'text', 'put'),
  col('limits', 'jsonb', 'put'),
  col('limits_version', 'int', 'put'),
  col('last_position', 'bigint', 'put'),
];

const ENGINE_TYPES = ['EnginePaused', 'EngineResumed', 'EngineReducing', 'RiskLimitsChanged'];
const MODE_AFTER: Record<string, EngineMode> = { EnginePaused: 'PAUSED', EngineResumed: 'ACTIVE', EngineReducing: 'REDUCING' };

interface EngineRow {
  id: 'engine';
  mode: EngineMode;
  since: string | null;
  actor: string | null;
  reason: string | null;
  cause: string | null;
  limits: unknown;
  limits_version: number;
  last_position: bigint;
}

export const riskDecisions: ProjectionDefinition = {
  name: 'risk',
  version: 1,
  eventTypes: ['RiskAssessed', ...ENGINE_TYPES],
  tables: ['risk_assessments', 'risk_decisions', 'engine_state', 'engine_history'],
  ddl: `
    CREATE TABLE risk_assessments (
      position            bigint PRIMARY KEY,
      event_id            uuid NOT NULL,
      opportunity_id      text NOT NULL,
      assessed_at         timestamptz NOT NULL,
      approved            boolean NOT NULL,
      engine_mode         text NOT NULL,
      limits_version      int,
      failed_checks       jsonb NOT NULL,
      input_mint          text NOT NULL,
      output_mint         text NOT NULL,
      amount_in           numeric NOT NULL,
      notional_usd_micros numeric NOT NULL
    );
    CREATE INDEX risk_assessments_opportunity ON risk_assessments (opportunity_id);
    CREATE INDEX risk_assessments_assessed_at ON risk_assessments (assessed_at);
    CREATE TABLE risk_decisions (
      position       bigint NOT NULL,
      check_index    int NOT NULL,
      opportunity_id text NOT NULL,
      check_name     text NOT NULL,
      passed         boolean NOT NULL,
      inputs         jsonb NOT NULL,
      limit_value    numeric,
      observed       numeric,
      unit           text NOT NULL,
      reason         text NOT NULL,
      PRIMARY KEY (position, check_index)
    );
    CREATE TABLE engine_history (
      position       bigint PRIMARY KEY,
      event_id       uuid NOT NULL,
      type           text NOT NULL,
      mode           text NOT NULL,
      actor          text NOT NULL,
      reason         text NOT NULL,
      cause          text,
      detail         jsonb,
      limits         jsonb,
      limits_version int NOT NULL,
      at             timestamptz NOT NULL
    );
    CREATE TABLE engine_state (
      id             text PRIMARY KEY CHECK (id = 'engine'),
      mode           text NOT NULL,
      since          timestamptz,
      actor          text,
      reason         text,
      cause          text,
      limits         jsonb,
      limits_version int NOT NULL,
      last_position  bigint NOT NULL
    );`,
  async apply(tx, events) {
    const assessments: Record<string, unknown>[] = [];
    const checks: { position: string; opportunityId: string; checks: unknown }[] = [];
    const history: Record<string, unknown>[] = [];
    let state: EngineRow | null = null;
    for (const e of events) {
      if (e.type === 'RiskAssessed') {
        const r = e.payload as RiskAssessedPayload;
        checks.push({ position: e.position.toString(), opportunityId: r.opportunityId, checks: r.checks });
        assessments.push({
          position: e.position,
          event_id: e.id,
          opportunity_id: r.opportunityId,
          assessed_at: r.assessedAt,
          approved: r.approved,
          engine_mode: r.engineMode,
          limits_version: r.limitsVersion ?? null,
          failed_checks: r.failedChecks ?? [],
          input_mint: r.inputMint,
          output_mint: r.outputMint,
          amount_in: intText(r.amountIn),
          notional_usd_micros: intText(r.notionalUsdMicros),
        });
        continue;
      }
      if (!ENGINE_TYPES.includes(e.type)) continue;
      if (!state) {
        const { rows } = await tx.query<{ mode: EngineMode; since: Date | string | null; actor: string | null; reason: string | null; cause: string | null; limits: unknown; limits_version: number; last_position: string }>(
          `SELECT mode, since, actor, reason, cause, limits, limits_version, last_position FROM engine_state WHERE id = 'engine'`,
        );
        const r = rows[0];
        state = r
          ? {
              id: 'engine', mode: r.mode, since: r.since instanceof Date ? r.since.toISOString() : r.since, actor: r.actor, reason: r.reason,
              cause: r.cause, limits: r.limits, limits_version: Number(r.limits_version), last_position: BigInt(r.last_position),
            }
          : { id: 'engine', mode: 'ACTIVE', since: null, actor: null, reason: null, cause: null, limits: null, limits_version: 0, last_position: 0n };
      }
      const p = e.payload as { actor: string; reason: string };
      if (e.type === 'RiskLimitsChanged') {
        state.limits = (e.payload as RiskLimitsChangedPayload).limits;
        state.limits_version += 1;
      } else {
        state.mode = MODE_AFTER[e.type];
        state.since = e.recordedAt;
        state.actor = p.actor;
        state.reason = p.reason;
        state.cause = e.type === 'EnginePaused' ? (e.payload as EnginePausedPayload).cause : null;
      }
      state.last_position = e.position;
      history.push({
        position: e.position,
        event_id: e.id,
        type: e.type,
        mode: state.mode,
        actor: p.actor,
        reason: p.reason,
        cause: e.type === 'EnginePaused' ? (e.payload as EnginePausedPayload).cause : null,
        detail: e.type === 'EnginePaused' ? ((e.payload as EnginePausedPayload).detail ?? null) : null,
        limits: e.type === 'RiskLimitsChanged' ? (e.payload as RiskLimitsChangedPayload).limits : null,
        limits_version: state.limits_version,
        at: e.recordedAt,
      });
    }
    // Append-only: each event is applied exactly once (the checkpoint guards it), so plain inserts.
    await insertJsonRows(tx, 'risk_assessments', ASSESSMENT_COLS, assessments);
    if (checks.length) await tx.query(INSERT_CHECKS, [JSON.stringify(checks)]);
    await upsertRows(tx, 'engine_history', HISTORY_COLS, history);
    if (state) await upsertRows(tx, 'engine_state', STATE_COLS, [state as unknown as Record<string, unknown>]);
  },
};
