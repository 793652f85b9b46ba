// Saga benchmark: the engine's own overhead per step with the paper venue on the local
// PostgreSQL (no network: simulated market, keystore signer). Prints throughput and p50/p99 per
// step, and per saga that was sent the span from its quote being recorded to its transaction being
// recorded as submitted (every step between, with each of its commits): the engine's overhead
// between a quote and the venue, as the engine loop drives it.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../src/app.module.js';
import { OPPORTUNITY_SOURCE } from '../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../src/market/simulated/simulated-market.js';
import { nextStep } from '../src/trading/saga.js';
import { AdvanceArbitrage, DetectOpportunity } from '../src/trading/commands.js';
import type { SagaState } from '../src/trading/saga.js';

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function sagaBench(databaseUrl: string, sagas: number, concurrency: number): Promise<string[][]> {
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-bench-')),
    ENGINE_AUTOSTART: 'false',
    SIM_SEED: '99',
    // The default order-rate limit (30/min) would reject most of a benchmark's sagas at risk;
    // lift it so sagas run every step and each step is measured.
    RISK_MAX_ORDERS_PER_MINUTE: '100000',
  });
  Logger.overrideLogger(['error']);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
  await app.init();
  const bus = app.get(CommandBus);
  const market = app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
  const steps = new Map<string, number[]>();
  const outcomes = new Map<string, number>();
  /** Quote recorded → transaction recorded as submitted, ms, per saga that got that far. */
  const spans: number[] = [];
  const time = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const list = steps.get(step) ?? [];
    list.push(performance.now() - t0);
    steps.set(step, list);
    return r;
  };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < sagas) {
        const c = market.next();
        let s = await time('detect', () => bus.execute<DetectOpportunity, SagaState>(new DetectOpportunity(c)));
        let quotedAt = 0;
        while (s.phase !== 'finished') {
          const step = nextStep(s) ?? 'done';
          s = await time(step, () => bus.execute<AdvanceArbitrage, SagaState>(new AdvanceArbitrage(c.opportunityId)));
          if (step === 'quote' && s.phase === 'quoted') quotedAt = performance.now();
          if (s.phase === 'submitted' && quotedAt) {
            spans.push(performance.now() - quotedAt);
            quotedAt = 0;
          }
        }
        outcomes.set(s.outcome, (outcomes.get(s.outcome) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  const rows: string[][] = [];
  console.log(`\nsagas: ${sagas} in ${seconds.toFixed(2)} s = ${(sagas / seconds).toFixed(1)} sagas/s with ${concurrency} at once; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
  console.log('step         count     p50 ms    p99 ms');
  for (const [step, list] of steps) {
    const sorted = [...list].sort((a, b) => a - b);
    const row = [step, String(list.length), pct(sorted, 50).toFixed(2), pct(sorted, 99).toFixed(2)];
    rows.push(row);
    console.log(`${step.padEnd(12)} ${row[1].padStart(5)} ${row[2].padStart(10)} ${row[3].padStart(9)}`);
  }
  const sortedSpans = [...spans].sort((a, b) => a - b);
  const span = ['quote received → transaction submitted', String(spans.length), pct(sortedSpans, 50).toFixed(2), pct(sortedSpans, 99).toFixed(2)];
  rows.push(span);
  console.log(`${span[0]}: ${span[1]} sagas, p50 ${span[2]} ms, p99 ${span[3]} ms`);
  rows.unshift(['all sagas', String(sagas), `${(sagas / seconds).toFixed(1)} sagas/s`, `${concurrency} concurrent`]);
  return rows;
}
