// A live /metrics scrape of the running app, after sagas, commands and an idempotent replay have
// put labelled series in it, must pass `promtool check metrics` without a single complaint
// (Prometheus naming and type conventions). promtool comes from Debian's prometheus package;
// .ci/run installs it when it is missing.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import { startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

function promtool(args: string[], input?: string) {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed (apt-get install prometheus; .ci/run does this): ${r.error.message}`);
  return r;
}

describe('/metrics follows Prometheus conventions', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let scrape = '';

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({ DATABASE_URL: db.url, LOG_LEVEL: 'error', SIM_SEED: '11' });
    const saga = app.app.get(ArbitrageSagaService);
    const market = app.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
    for (let i = 0; i < 5; i++) await saga.runNew(market.next());
    const operator = await authHeaders(app.app, 'operator');
    const pause = () =>
      fetch(`${app.url}/engine/pause`, {
        method: 'POST',
        headers: { ...operator, 'content-type': 'application/json', 'idempotency-key': 'metrics-test-pause' },
        body: JSON.stringify({ reason: 'metrics test' }),
      });
    expect((await pause()).status).toBe(200);
    expect((await pause()).status).toBe(200); // replayed from the Idempotency-Key record
    scrape = await (await fetch(`${app.url}/metrics`)).text();
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('passes promtool check metrics with no complaint', () => {
    const r = promtool(['check', 'metrics'], scrape);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('names every application series arbiter_*, with units, and carries the build info', () => {
    const names = new Set([...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`));
    const own = [...names].filter((n) => !/^(process_|nodejs_)/.test(n));
    expect(own.length).toBeGreaterThan(20);
    for (const n of own) expect(n).toMatch(/^arbiter_/);
    for (const n of names) if (n.endsWith(' gauge') || n.endsWith(' histogram')) expect(n.split(' ')[0]).not.toMatch(/_total$/);
    expect(scrape).not.toMatch(/nodejs_active_(handles|requests|resources)_total/);
    expect(scrape).toMatch(/^arbiter_build_info\{version="\d+\.\d+\.\d+",node_version="v\d+\.\d+\.\d+"\} 1$/m);
    expect(scrape).toMatch(/^arbiter_sagas_started_total 5$/m);
    expect(scrape).toMatch(/^arbiter_idempotent_replays_total\{route="POST \/engine\/pause"\} 1$/m);
    expect(scrape).toMatch(/^arbiter_engine_mode\{mode="PAUSED"\} 1$/m);
    expect(scrape).toMatch(/^arbiter_daily_loss_limit_usd \d+$/m);
    expect(scrape).toMatch(/^arbiter_saga_step_duration_seconds_count\{step="quote"\} 5$/m);
  });
});
