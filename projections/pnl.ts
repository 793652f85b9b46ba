// Realised P&L and settled exposure, from confirmed fills.
//
// pnl_daily: per UTC day (of the fill's confirmedAt) and token pair (the opportunity's route,
//   mint_a → mint_b, from OpportunityDetected), the sum of FillConfirmed.realisedPnl. That figure
//   is in base units of the fill's input mint (pnl_mint), gross of network fees, so it is kept in
//   that mint and never converted; fees are summed beside it in lamports. Fills without a
//   realisedPnl (input mint ≠ output mint: no common unit) are counted in unpriced_fills.
//
// token_exposure: per mint, the net settled flow from confirmed fills since the log began:
//   received (Σ amountOut where the mint is the fill's output mint) − spent (Σ amountIn where it
//   is the input mint), in base units of that mint. A round trip A → B → A moves its P&L into A
//   and what leg 1 left of B (FillConfirmed v2 `inventory`, read from the chain) into B; an
//   inventory sale or a one-way swap moves the whole amount. Network fees (lamports) are not in
//   it. It is a change in holdings, not a balance: the starting balances are not in the ledger.
//   Version 2 counts the intermediate (version 1 did not; fills before FillConfirmed v2 have none,
//   so a rebuild changes nothing for them).
//
// pnl_routes remembers each opportunity's route so a fill in a later batch finds its pair.
import type { RecordedEvent } from '../src/ledger/envelope.js';
import type { SqlExecutor } from '../src/shared/sql/sql-client.js';
import type { ProjectionDefinition } from '../src/projections/projection.js';
import type { OpportunityDetectedPayload } from '../src/market/events.js';
import { fillHoldingChanges, type FillConfirmedPayload } from '../src/execution/events.js';
import { big, col, upsertRows, utcDayOf, type Col } from './sql.js';

export interface Route {
  mint_a: string;
  mint_b: string;
  symbol_a: string | null;
  symbol_b: string | null;
}

const ROUTE_COLS: Col[] = [
  col('opportunity_id', 'text', 'key'),
  col('mint_a', 'text', 'keep'),
  col('mint_b', 'text', 'keep'),
  col('symbol_a', 'text', 'keep'),
  col('symbol_b', 'text', 'keep'),
];

const DAILY_COLS: Col[] = [
  col('day', 'date', 'key'),
  col('mint_a', 'text', 'key'),
  col('mint_b', 'text', 'key'),
  col('pnl_mint', 'text', 'key'),
  col('symbol_a', 'text', 'keep'),
  col('symbol_b', 'text', 'keep'),
  col('realised_pnl', 'numeric', 'add'),
  col('fills', 'bigint', 'add'),
  col('unpriced_fills', 'bigint', 'add'),
  col('amount_in', 'numeric', 'add'),
  col('fees_lamports', 'numeric', 'add'),
  col('first_fill_at', 'timestamptz', 'min'),
  col('last_fill_at', 'timestamptz', 'max'),
];

const EXPOSURE_COLS: Col[] = [
  col('mint', 'text', 'key'),
  col('symbol', 'text', 'keep'),
  col('received', 'numeric', 'add'),
  col('spent', 'numeric', 'add'),
  col('net', 'numeric', 'add'),
  col('fills', 'bigint', 'add'),
  col('last_fill_at', 'timestamptz', 'max'),
];

/** Routes of the opportunities a batch touches: the batch's own detections, then the table. */
export async function routesFor(tx: SqlExecutor, table: string, batch: Map<string, Route>, ids: Iterable<string>): Promise<Map<string, Route>> {
  const missing = [...new Set(ids)].filter((id) => !batch.has(id));
  const out = new Map(batch);
  if (missing.length) {
    const { rows } = await tx.query<Route & { opportunity_id: string }>(
      `SELECT opportunity_id, mint_a, mint_b, symbol_a, symbol_b FROM ${table} WHERE opportunity_id = ANY($1::text[])`,
      [missing],
    );
    for (const r of rows) out.set(r.opportunity_id, r);
  }
  return out;
}

export const pnl: ProjectionDefinition = {
  name: 'pnl',
  version: 2,
  eventTypes: ['OpportunityDetected', 'FillConfirmed'],
  tables: ['pnl_daily', 'token_exposure', 'pnl_routes'],
  ddl: `
    CREATE TABLE pnl_routes (
      opportunity_id text COLLATE "C" PRIMARY KEY,
      mint_a         text NOT NULL,
      mint_b         text NOT NULL,
      symbol_a       text,
      symbol_b       text
    );
    CREATE TABLE pnl_daily (
      day            date NOT NULL,
      mint_a         text COLLATE "C" NOT NULL,
      mint_b         text COLLATE "C" NOT NULL,
      pnl_mint       text COLLATE "C" NOT NULL,
      symbol_a       text,
      symbol_b       text,
      realised_pnl   numeric NOT NULL,
      fills          bigint NOT NULL,
      unpriced_fills bigint NOT NULL,
      amount_in      numeric NOT NULL,
      fees_lamports  numeric NOT NULL,
      first_fill_at  timestamptz NOT NULL,
      last_fill_at   timestamptz NOT NULL,
      PRIMARY KEY (day, mint_a, mint_b, pnl_mint)
    );
    CREATE TABLE token_exposure (
      mint           text COLLATE "C" PRIMARY KEY,
      symbol         text,
      received       numeric NOT NULL,
      spent          numeric NOT NULL,
      net            numeric NOT NULL,
      fills          bigint NOT NULL,
      last_fill_at   timestamptz NOT NULL
    );`,
  async apply(tx, events) {
    const batchRoutes = new Map<string, Route>();
    const fills: RecordedEvent<FillConfirmedPayload>[] = [];
    for (const e of events) {
      if (e.type === 'OpportunityDetected') {
        const d = e.payload as OpportunityDetectedPayload;
        if (!batchRoutes.has(d.opportunityId)) {
          batchRoutes.set(d.opportunityId, { mint_a: d.route.mintA, mint_b: d.route.mintB, symbol_a: d.route.symbolA, symbol_b: d.route.symbolB });
        }
      } else if (e.type === 'FillConfirmed') fills.push(e as RecordedEvent<FillConfirmedPayload>);
    }
    await upsertRows(tx, 'pnl_routes', ROUTE_COLS, [...batchRoutes].map(([opportunity_id, r]) => ({ opportunity_id, ...r })));
    if (!fills.length) return;
    const routes = await routesFor(tx, 'pnl_routes', batchRoutes, fills.map((f) => f.payload.opportunityId));

    const daily = new Map<string, Record<string, unknown>>();
    const exposure = new Map<string, Record<string, unknown>>();
    const symbolOf = (mint: string, route: Route | undefined) =>
      route?.mint_a === mint ? route.symbol_a : route?.mint_b === mint ? route.symbol_b : null;
    const touch = (mint: string, symbol: string | null, at: string) => {
      let x = exposure.get(mint);
      if (!x) exposure.set(mint, (x = { mint, symbol, received: 0n, spent: 0n, net: 0n, fills: 0n, last_fill_at: at }));
      x.symbol ??= symbol;
      x.fills = (x.fills as bigint) + 1n;
      if (Date.parse(x.last_fill_at as string) < Date.parse(at)) x.last_fill_at = at;
      return x;
    };
    for (const f of fills) {
      const p = f.payload;
      const route = routes.get(p.opportunityId);
      const at = p.confirmedAt;
      const mintA = route?.mint_a ?? p.inputMint;
      const mintB = route?.mint_b ?? p.outputMint;
      const key = `${utcDayOf(at)}|${mintA}|${mintB}|${p.inputMint}`;
      let d = daily.get(key);
      if (!d) {
        d = {
          day: utcDayOf(at), mint_a: mintA, mint_b: mintB, pnl_mint: p.inputMint,
          symbol_a: route?.symbol_a ?? null, symbol_b: route?.symbol_b ?? null,
          realised_pnl: 0n, fills: 0n, unpriced_fills: 0n, amount_in: 0n, fees_lamports: 0n, first_fill_at: at, last_fill_at: at,
        };
        daily.set(key, d);
      }
      const pnlUnits = big(p.realisedPnl, true);
      d.fills = (d.fills as bigint) + 1n;
      if (pnlUnits === null) d.unpriced_fills = (d.unpriced_fills as bigint) + 1n;
      else d.realised_pnl = (d.realised_pnl as bigint) + pnlUnits;
      d.amount_in = (d.amount_in as bigint) + (big(p.amountIn) ?? 0n);
      d.fees_lamports = (d.fees_lamports as bigint) + (big(p.feeLamports) ?? 0n);
      if (Date.parse(d.first_fill_at as string) > Date.parse(at)) d.first_fill_at = at;
      if (Date.parse(d.last_fill_at as string) < Date.parse(at)) d.last_fill_at = at;

      // Each mint the fill moved is touched once (a round trip's in and out are one mint).
      const touched = new Map<string, Record<string, unknown>>();
      for (const c of fillHoldingChanges(p)) {
        const x = touched.get(c.mint) ?? touch(c.mint, symbolOf(c.mint, route), at);
        touched.set(c.mint, x);
        if (c.changeBaseUnits >= 0n) x.received = (x.received as bigint) + c.changeBaseUnits;
        else x.spent = (x.spent as bigint) - c.changeBaseUnits;
        x.net = (x.net as bigint) + c.changeBaseUnits;
      }
    }
    await upsertRows(tx, 'pnl_daily', DAILY_COLS, daily.values());
    await upsertRows(tx, 'token_exposure', EXPOSURE_COLS, exposure.values());
  },
};
