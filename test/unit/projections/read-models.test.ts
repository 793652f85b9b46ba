// Read-model projections, given events → rows, on a fresh PostgreSQL database. Each projection
// also gets the same log applied one event per batch in one generation and in one batch in
// another: the batch fold must not change the result (identical digests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/ledger/envelope.js';
import type { ProjectionDefinition } from '../../../src/projections/projection.js';
import { ProjectionStore } from '../../../src/projections/projection-store.js';
import { complianceFlags } from '../../../projections/compliance-flags.js';
import { executions } from '../../../projections/executions.js';
import { pnl } from '../../../projections/pnl.js';
import { reports } from '../../../projections/reports.js';
import { riskDecisions } from '../../../projections/risk-decisions.js';
import { ratioDecimal, toDecimal } from '../../../projections/sql.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { oppId, recorded, SOL, standardLog, USDC } from './fixtures.js';

describe('read-model projections', () => {
  let db: TestDatabase;
  let store: ProjectionStore;
  let log: RecordedEvent[];
  beforeAll(async () => {
    db = await freshDatabase();
    store = new ProjectionStore(db.sql);
    log = recorded(standardLog());
  });
  afterAll(() => db?.drop());

  /** Applies the log to the active generation in batches of `size` (only the projection's types). */
  async function project(def: ProjectionDefinition, size = 1000, generation?: number): Promise<number> {
    const gen = generation ?? (await store.ensureActive(def)).generation;
    const mine = log.filter((e) => def.eventTypes.length === 0 || def.eventTypes.includes(e.type));
    let from = 0n;
    for (let i = 0; i < mine.length; i += size) {
      const batch = mine.slice(i, i + size);
      const to = batch[batch.length - 1].position;
      expect(await store.applyBatch(def, gen, from, to, batch)).toBe(true);
      from = to;
    }
    return gen;
  }

  /** One event per batch in a second generation gives the same tables as the whole log in one. */
  async function sameInSmallBatches(def: ProjectionDefinition, activeGen: number) {
    const building = await store.createBuilding(def);
    await project(def, 1, building.generation);
    expect(await store.digest(def, building.generation)).toBe(await store.digest(def, activeGen));
  }

  const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await db.sql.query<T>(text, params)).rows;

  it('executions: one row per opportunity with its status, amounts, times and reasons', async () => {
    const gen = await project(executions);
    const rows = await q<Record<string, any>>(
      `SELECT opportunity_id, status, amount_in::text, expected_out::text, expected_profit::text, realised_pnl::text, fee_lamports::text,
              amount_out::text, slot::text, signature, venue, reason, failed_checks, compliance_decision, symbol_a, symbol_b,
              detected_at, quoted_at, risk_at, screened_at, signed_at, submitted_at, finished_at
         FROM executions ORDER BY first_position`,
    );
    expect(rows.map((r) => r.status)).toEqual([
      'filled', 'rejected_by_risk', 'blocked_by_compliance', 'fill_failed', 'expired', 'quote_failed', 'filled', 'filled', 'abandoned',
    ]);
    const filled = rows[0];
    expect(filled).toMatchObject({
      opportunity_id: oppId(1),
      amount_in: '1000000000',
      expected_out: '1000120000',
      expected_profit: '120000',
      amount_out: '1000120000',
      realised_pnl: '120000',
      fee_lamports: '6000',
      slot: '778',
      venue: 'paper',
      compliance_decision: 'clear',
      symbol_a: 'SOL',
      symbol_b: 'USDC',
    });
    for (const k of ['detected_at', 'quoted_at', 'risk_at', 'screened_at', 'signed_at', 'submitted_at', 'finished_at']) {
      expect(filled[k], k).toBeInstanceOf(Date);
    }
    expect(filled.finished_at.toISOString()).toBe('2026-03-01T10:00:00.900Z');
    expect(rows[1].failed_checks).toEqual(['min_profit']);
    expect(rows[1].reason).toMatch(/^rejected by risk: min_profit: /);
    expect(rows[1].signed_at).toBeNull();
    expect(rows[2].reason).toBe('blocked by compliance: sanctioned_address');
    expect(rows[3].reason).toMatch(/slippage exceeded/);
    expect(rows[4].reason).toMatch(/block height exceeded/);
    expect(rows[5].reason).toBe('jupiter UPSTREAM_5XX: Jupiter answered 503');
    expect(rows[6].realised_pnl).toBe('-30000');
    expect(rows[8].reason).toMatch(/^abandoned at step submit/);
    // Amounts are exact numerics, never float8.
    const types = await q<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'executions' AND table_schema = 'public'`,
    );
    expect(types.filter((t) => t.data_type === 'double precision' || t.data_type === 'real')).toEqual([]);
    await sameInSmallBatches(executions, gen);
  });

  it('pnl: realised P&L per UTC day and pair in the input mint, fees, and net settled flow per mint', async () => {
    const gen = await project(pnl);
    const daily = await q(
      `SELECT day::text, symbol_a, symbol_b, pnl_mint, realised_pnl::text, fills::int, unpriced_fills::int, fees_lamports::text FROM pnl_daily ORDER BY day`,
    );
    expect(daily).toEqual([
      { day: '2026-03-01', symbol_a: 'SOL', symbol_b: 'USDC', pnl_mint: SOL, realised_pnl: '90000', fills: 2, unpriced_fills: 0, fees_lamports: '12000' },
      { day: '2026-03-02', symbol_a: 'SOL', symbol_b: 'USDC', pnl_mint: SOL, realised_pnl: '120000', fills: 1, unpriced_fills: 0, fees_lamports: '6000' },
    ]);
    const exposure = await q(`SELECT mint, symbol, received::text, spent::text, net::text, fills::int FROM token_exposure`);
    expect(exposure).toEqual([{ mint: SOL, symbol: 'SOL', received: '3000210000', spent: '3000000000', net: '210000', fills: 3 }]);
    await sameInSmallBatches(pnl, gen);
  });

  it('pnl: a round trip moves what leg 1 left of the intermediate into that mint; a sale of it counts once', async () => {
    const gen = (await store.createBuilding(pnl)).generation;
    const fill = log.find((e) => e.type === 'FillConfirmed')!;
    const inventory = (mint: string, change: string) => ({ mint, changeBaseUnits: change, baseMint: SOL, price: null });
    const roundTrip = { ...fill, payload: { ...(fill.payload as object), inventory: inventory(USDC, '2500') } };
    const sale = {
      ...fill,
      position: fill.position + 100_000n,
      payload: { ...(fill.payload as object), opportunityId: 'sale-1', inputMint: USDC, outputMint: SOL, amountIn: '2500', amountOut: '16', realisedPnl: undefined, inventory: inventory(USDC, '-2500') },
    };
    expect(await store.applyBatch(pnl, gen, 0n, sale.position, [roundTrip, sale] as RecordedEvent[])).toBe(true);
    const rows = await q(`SELECT mint, received::text, spent::text, net::text, fills::int FROM proj_pnl_g${gen}.token_exposure ORDER BY mint`);
    const p = fill.payload as { amountIn: string; amountOut: string };
    expect(rows).toEqual([
      { mint: USDC, received: '2500', spent: '2500', net: '0', fills: 2 },
      { mint: SOL, received: String(BigInt(p.amountOut) + 16n), spent: p.amountIn, net: String(BigInt(p.amountOut) + 16n - BigInt(p.amountIn)), fills: 2 },
    ]);
  });

  it('risk: each assessment, one row per check of it, the engine mode, and its history', async () => {
    const gen = await project(riskDecisions);
    const checks = await q<{ opportunity_id: string; n: number; failed: number }>(
      `SELECT opportunity_id, count(*)::int AS n, count(*) FILTER (WHERE NOT passed)::int AS failed FROM risk_decisions GROUP BY 1 ORDER BY 1`,
    );
    expect(checks).toHaveLength(8); // every saga but the one whose quote failed
    expect(checks.every((c) => c.n === 10)).toBe(true);
    expect(checks.find((c) => c.opportunity_id === oppId(2))?.failed).toBe(1);
    const [minProfit] = await q<Record<string, any>>(
      `SELECT passed, limit_value::text, observed::text, unit, reason, inputs FROM risk_decisions WHERE opportunity_id = $1 AND check_name = 'min_profit'`,
      [oppId(2)],
    );
    expect(minProfit).toMatchObject({ passed: false, limit_value: '1', unit: 'base_units' });
    expect(Number(minProfit.observed)).toBeLessThan(1);
    expect(minProfit.inputs).toBeTypeOf('object');
    const assessments = await q(`SELECT approved, failed_checks, engine_mode, amount_in::text FROM risk_assessments WHERE opportunity_id = $1`, [oppId(2)]);
    expect(assessments).toEqual([{ approved: false, failed_checks: ['min_profit'], engine_mode: 'ACTIVE', amount_in: '1000000000' }]);
    const [state] = await q<Record<string, any>>(`SELECT mode, actor, reason, limits_version, limits FROM engine_state`);
    expect(state).toMatchObject({ mode: 'ACTIVE', actor: 'operator:alice', reason: 'maintenance done', limits_version: 1 });
    expect(state.limits.maxSlippageBps).toBe(40);
    const history = await q(`SELECT type, mode, actor, cause, limits_version FROM engine_history ORDER BY position`);
    expect(history).toEqual([
      { type: 'EnginePaused', mode: 'PAUSED', actor: 'operator:alice', cause: 'operator', limits_version: 0 },
      { type: 'RiskLimitsChanged', mode: 'PAUSED', actor: 'risk:carol', cause: null, limits_version: 1 },
      { type: 'EngineResumed', mode: 'ACTIVE', actor: 'operator:alice', cause: null, limits_version: 1 },
    ]);
    await sameInSmallBatches(riskDecisions, gen);
  });

  it('compliance: flags as cases, open → reviewed → closed, with reviewer, notes and evidence', async () => {
    const gen = await project(complianceFlags);
    const flags = await q<Record<string, any>>(
      `SELECT opportunity_id, rule, severity, status, reviewed_by, review_note, closed_by, close_note, outcome, evidence, raised_at, closed_at
         FROM compliance_flags ORDER BY raised_position`,
    );
    expect(flags.map((f) => [f.opportunity_id, f.rule, f.severity, f.status])).toEqual([
      [oppId(3), 'sanctioned_address', 'blocking', 'closed'],
      [oppId(8), 'large_transaction', 'advisory', 'reviewed'],
    ]);
    expect(flags[0]).toMatchObject({ reviewed_by: 'operator:alice', closed_by: 'operator:bob', outcome: 'reported', close_note: 'reported to the regulator' });
    expect(flags[0].evidence.matchedAddresses).toHaveLength(1);
    expect(flags[1]).toMatchObject({ closed_by: null, closed_at: null, evidence: { notionalUsdMicros: '600000000', thresholdUsdMicros: '500000000' } });
    await sameInSmallBatches(complianceFlags, gen);
  });

  it('a retried raise never reopens a reviewed or closed case', async () => {
    const def = { ...complianceFlags, name: 'compliance_retry', tables: [] }; // no public views: leave the real ones alone
    const gen = (await store.ensureActive(def)).generation;
    const flagEvents = log.filter((e) => complianceFlags.eventTypes.includes(e.type));
    const raise = flagEvents.find((e) => e.type === 'ComplianceFlagRaised' && (e.payload as any).opportunityId === oppId(3))!;
    const head = log[log.length - 1].position;
    expect(await store.applyBatch(def, gen, 0n, head, flagEvents)).toBe(true);
    expect(await store.applyBatch(def, gen, head, head + 1n, [{ ...raise, position: head + 1n }])).toBe(true);
    const rows = await q<{ status: string }>(`SELECT status FROM proj_compliance_retry_g${gen}.compliance_flags WHERE opportunity_id = $1`, [oppId(3)]);
    expect(rows).toEqual([{ status: 'closed' }]);
  });

  it('reports: one transaction row per fill with a decimal price, and suspicious-activity candidates', async () => {
    const gen = await project(reports);
    const txs = await q<Record<string, any>>(
      `SELECT opportunity_id, instrument, side, quantity, proceeds, price, price_unit, realised_pnl, fee_lamports::text, fee_sol, venue, signature, trade_date::text
         FROM report_daily_transactions ORDER BY executed_at`,
    );
    expect(txs).toHaveLength(3);
    expect(txs[0]).toMatchObject({
      opportunity_id: oppId(1),
      instrument: 'SOL/USDC',
      side: 'round_trip',
      quantity: '1.000000000',
      proceeds: '1.000120000',
      price: '1.000120000000',
      price_unit: 'SOL per SOL',
      realised_pnl: '0.000120000',
      fee_lamports: '6000',
      fee_sol: '0.000006000',
      venue: 'paper',
      trade_date: '2026-03-01',
    });
    expect(txs[1]).toMatchObject({ price: '0.999970000000', realised_pnl: '-0.000030000' });
    const sar = await q(`SELECT opportunity_id, rule, severity, status, outcome, instrument FROM report_suspicious_activity ORDER BY raised_position`);
    expect(sar).toEqual([
      { opportunity_id: oppId(3), rule: 'sanctioned_address', severity: 'blocking', status: 'closed', outcome: 'reported', instrument: 'SOL/USDC' },
      { opportunity_id: oppId(8), rule: 'large_transaction', severity: 'advisory', status: 'reviewed', outcome: null, instrument: 'SOL/USDC' },
    ]);
    await sameInSmallBatches(reports, gen);
  });

  it('decimal arithmetic is exact and rounds half away from zero', () => {
    expect(toDecimal(1234567n, 6)).toBe('1.234567');
    expect(toDecimal(-5n, 2)).toBe('-0.05');
    expect(toDecimal(42n, 0)).toBe('42');
    // 150 USDC for 1 SOL: 150 USDC per SOL, decimals 6 and 9.
    expect(ratioDecimal(150_000_000n, 6, 1_000_000_000n, 9, 4)).toBe('150.0000');
    expect(ratioDecimal(2n, 0, 3n, 0, 3)).toBe('0.667');
    expect(ratioDecimal(-2n, 0, 3n, 0, 3)).toBe('-0.667');
    expect(ratioDecimal(1n, 0, 8n, 0, 2)).toBe('0.13');
    expect(ratioDecimal(1n, 0, 0n, 0)).toBeNull();
    // Beyond 2^53, still exact.
    expect(ratioDecimal(2n ** 80n + 1n, 0, 1n, 0, 1)).toBe(`${2n ** 80n + 1n}.0`);
  });
});
