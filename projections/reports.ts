// Regulatory reports, rebuilt from the log like any read model (src/reports/export.ts turns them
// into CSV or JSON for a time range).
//
// report_daily_transactions: one row per confirmed fill (key: transaction signature).
//   instrument  "<symbolA>/<symbolB>" of the opportunity's route (mints beside it);
//   side        'round_trip' when the fill's input and output mint are the same (A → B → A: one
//               row for the whole cycle, since the chain settles it as one transaction), 'swap'
//               when they differ (a one-way trade: input sold, output bought);
//   quantity    amount spent in the input mint, as a decimal string (base units ÷ 10^decimals);
//   proceeds    amount received in the output mint, likewise;
//   price       proceeds ÷ quantity in whole tokens, 12 decimal places, computed in bigint
//               arithmetic (round half away from zero); for a round trip it is the gross return
//               factor (1.001200000000 = +0.12 %), for a swap output tokens per input token;
//   fees        network fee in lamports and in SOL (9 decimals);
//   venue       from TransactionSubmitted ('paper' or 'solana'); signature and slot.
//   Decimal strings are null when the mint's decimals are unknown (no OpportunityDetected).
// report_suspicious_activity: every compliance flag is a candidate, with its severity, rule,
//   evidence, opportunity and instrument, and its case status; whether it was reported to the
//   authority is the close outcome ('reported').
// report_trade_context: each opportunity's route and venue, so a later batch can fill the above.
import type { ProjectionDefinition } from '../src/projections/projection.js';
import type { SqlExecutor } from '../src/shared/sql/sql-client.js';
import type { OpportunityDetectedPayload } from '../src/market/events.js';
import type { FillConfirmedPayload, TransactionSubmittedPayload } from '../src/execution/events.js';
import { FLAG_COLS, FLAG_COLUMNS_DDL, FLAG_EVENT_TYPES, foldFlags, upsertFlags } from './compliance-flags.js';
import { big, col, ratioDecimal, toDecimal, upsertRows, utcDayOf, type Col } from './sql.js';

interface Context {
  opportunity_id: string;
  mint_a: string | null;
  mint_b: string | null;
  symbol_a: string | null;
  symbol_b: string | null;
  decimals_a: number | null;
  decimals_b: number | null;
  venue: string | null;
}

const CONTEXT_COLS: Col[] = [
  col('opportunity_id', 'text', 'key'),
  col('mint_a', 'text'),
  col('mint_b', 'text'),
  col('symbol_a', 'text'),
  col('symbol_b', 'text'),
  col('decimals_a', 'int'),
  col('decimals_b', 'int'),
  col('venue', 'text'),
];

const TX_COLS: Col[] = [
  col('signature', 'text', 'key'),
  col('opportunity_id', 'text', 'put'),
  col('position', 'bigint', 'put'),
  col('executed_at', 'timestamptz', 'put'),
  col('trade_date', 'date', 'put'),
  col('instrument', 'text', 'put'),
  col('mint_a', 'text', 'put'),
  col('mint_b', 'text', 'put'),
  col('side', 'text', 'put'),
  col('quantity', 'text', 'put'),
  col('quantity_base_units', 'numeric', 'put'),
  col('quantity_mint', 'text', 'put'),
  col('proceeds', 'text', 'put'),
  col('proceeds_base_units', 'numeric', 'put'),
  col('proceeds_mint', 'text', 'put'),
  col('price', 'text', 'put'),
  col('price_unit', 'text', 'put'),
  col('realised_pnl', 'text', 'put'),
  col('realised_pnl_base_units', 'numeric', 'put'),
  col('fee_lamports', 'numeric', 'put'),
  col('fee_sol', 'text', 'put'),
  col('venue', 'text', 'put'),
  col('slot', 'numeric', 'put'),
];

const SAR_COLS: Col[] = [...FLAG_COLS, col('instrument', 'text', 'keep')];

const decimalsOf = (c: Context | undefined, mint: string): number | null =>
  !c ? null : c.mint_a === mint ? c.decimals_a : c.mint_b === mint ? c.decimals_b : null;
const symbolOf = (c: Context | undefined, mint: string): string | null =>
  !c ? null : c.mint_a === mint ? c.symbol_a : c.mint_b === mint ? c.symbol_b : null;
const instrumentOf = (c: Context | undefined): string | null =>
  c?.symbol_a && c.symbol_b ? `${c.symbol_a}/${c.symbol_b}` : null;

/** One daily-transactions row for a fill, given its opportunity's context. Pure. */
export function transactionRow(p: FillConfirmedPayload, position: bigint, c: Context | undefined): Record<string, unknown> {
  const amountIn = big(p.amountIn) ?? 0n;
  const amountOut = big(p.amountOut) ?? 0n;
  const roundTrip = p.inputMint === p.outputMint;
  const decIn = decimalsOf(c, p.inputMint);
  const decOut = decimalsOf(c, p.outputMint);
  const pnlUnits = big(p.realisedPnl, true);
  const fee = big(p.feeLamports) ?? 0n;
  const symIn = symbolOf(c, p.inputMint) ?? p.inputMint;
  const symOut = symbolOf(c, p.outputMint) ?? p.outputMint;
  // A round trip's price is a ratio of one mint to itself: decimals cancel even when unknown.
  const price = roundTrip
    ? ratioDecimal(amountOut, 0, amountIn, 0)
    : decIn !== null && decOut !== null
      ? ratioDecimal(amountOut, decOut, amountIn, decIn)
      : null;
  return {
    signature: p.signature,
    opportunity_id: p.opportunityId,
    position,
    executed_at: p.confirmedAt,
    trade_date: utcDayOf(p.confirmedAt),
    instrument: instrumentOf(c) ?? `${p.inputMint}/${p.outputMint}`,
    mint_a: c?.mint_a ?? p.inputMint,
    mint_b: c?.mint_b ?? p.outputMint,
    side: roundTrip ? 'round_trip' : 'swap',
    quantity: decIn === null ? null : toDecimal(amountIn, decIn),
    quantity_base_units: amountIn,
    quantity_mint: p.inputMint,
    proceeds: decOut === null ? null : toDecimal(amountOut, decOut),
    proceeds_base_units: amountOut,
    proceeds_mint: p.outputMint,
    price,
    price_unit: `${symOut} per ${symIn}`,
    realised_pnl: pnlUnits === null || decIn === null ? null : toDecimal(pnlUnits, decIn),
    realised_pnl_base_units: pnlUnits,
    fee_lamports: fee,
    fee_sol: toDecimal(fee, 9),
    venue: c?.venue ?? null,
    slot: p.slot,
  };
}

async function loadContexts(tx: SqlExecutor, ids: string[]): Promise<Map<string, Context>> {
  const out = new Map<string, Context>();
  if (!ids.length) return out;
  const { rows } = await tx.query<Context>(
    `SELECT opportunity_id, mint_a, mint_b, symbol_a, symbol_b, decimals_a, decimals_b, venue
       FROM report_trade_context WHERE opportunity_id = ANY($1::text[])`,
    [ids],
  );
  for (const r of rows) out.set(r.opportunity_id, { ...r, decimals_a: r.decimals_a === null ? null : Number(r.decimals_a), decimals_b: r.decimals_b === null ? null : Number(r.decimals_b) });
  return out;
}

export const reports: ProjectionDefinition = {
  name: 'reports',
  version: 1,
  eventTypes: ['OpportunityDetected', 'TransactionSubmitted', 'FillConfirmed', ...FLAG_EVENT_TYPES],
  tables: ['report_trade_context', 'report_daily_transactions', 'report_suspicious_activity'],
  ddl: `
    CREATE TABLE report_trade_context (
      opportunity_id text COLLATE "C" PRIMARY KEY,
      mint_a         text,
      mint_b         text,
      symbol_a       text,
      symbol_b       text,
      decimals_a     int,
      decimals_b     int,
      venue          text
    );
    CREATE TABLE report_daily_transactions (
      signature               text COLLATE "C" PRIMARY KEY,
      opportunity_id          text NOT NULL,
      position                bigint NOT NULL,
      executed_at             timestamptz NOT NULL,
      trade_date              date NOT NULL,
      instrument              text NOT NULL,
      mint_a                  text NOT NULL,
      mint_b                  text NOT NULL,
      side                    text NOT NULL,
      quantity                text,
      quantity_base_units     numeric NOT NULL,
      quantity_mint           text NOT NULL,
      proceeds                text,
      proceeds_base_units     numeric NOT NULL,
      proceeds_mint           text NOT NULL,
      price                   text,
      price_unit              text NOT NULL,
      realised_pnl            text,
      realised_pnl_base_units numeric,
      fee_lamports            numeric NOT NULL,
      fee_sol                 text NOT NULL,
      venue                   text,
      slot                    numeric NOT NULL
    );
    CREATE INDEX report_daily_transactions_time ON report_daily_transactions (executed_at, signature);
    CREATE TABLE report_suspicious_activity (${FLAG_COLUMNS_DDL},
      instrument      text
    );
    CREATE INDEX report_suspicious_activity_time ON report_suspicious_activity (raised_at, flag_id);`,
  async apply(tx, events) {
    const referenced = new Set<string>();
    for (const e of events) {
      if (e.type === 'FillConfirmed' || e.type === 'TransactionSubmitted' || e.type === 'ComplianceFlagRaised') {
        referenced.add((e.payload as { opportunityId: string }).opportunityId);
      }
    }
    const ctx = await loadContexts(tx, [...referenced]);
    const changed = new Map<string, Context>();
    const txRows = new Map<string, Record<string, unknown>>();
    for (const e of events) {
      if (e.type === 'OpportunityDetected') {
        const d = e.payload as OpportunityDetectedPayload;
        const c: Context = {
          ...(ctx.get(d.opportunityId) ?? { venue: null }),
          opportunity_id: d.opportunityId,
          mint_a: d.route.mintA,
          mint_b: d.route.mintB,
          symbol_a: d.route.symbolA,
          symbol_b: d.route.symbolB,
          decimals_a: d.route.decimalsA,
          decimals_b: d.route.decimalsB,
        };
        ctx.set(d.opportunityId, c);
        changed.set(d.opportunityId, c);
      } else if (e.type === 'TransactionSubmitted') {
        const s = e.payload as TransactionSubmittedPayload;
        const c: Context = ctx.get(s.opportunityId) ?? {
          opportunity_id: s.opportunityId, mint_a: null, mint_b: null, symbol_a: null, symbol_b: null, decimals_a: null, decimals_b: null, venue: null,
        };
        c.venue = s.venue;
        ctx.set(s.opportunityId, c);
        changed.set(s.opportunityId, c);
      } else if (e.type === 'FillConfirmed') {
        const f = e.payload as FillConfirmedPayload;
        txRows.set(f.signature, transactionRow(f, e.position, ctx.get(f.opportunityId)));
      }
    }
    const flags = foldFlags(events);
    for (const r of flags.values()) {
      if (r.opportunity_id !== undefined) r.instrument = instrumentOf(ctx.get(r.opportunity_id as string));
    }
    await upsertRows(tx, 'report_trade_context', CONTEXT_COLS, changed.values() as Iterable<unknown> as Iterable<Record<string, unknown>>);
    await upsertRows(tx, 'report_daily_transactions', TX_COLS, txRows.values());
    await upsertFlags(tx, 'report_suspicious_activity', SAR_COLS, [...flags.values()]);
  },
};
