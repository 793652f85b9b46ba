// The operator console in a real browser: Debian's Chromium driven by playwright-core against
// the app on real PostgreSQL, like an operator, a compliance officer, an auditor and an admin
// would use it. The console is built with Vite first (into a temporary folder), and every page
// is photographed into test-artifacts/console/ (docs/console/ holds one of each for the README).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOperations, generate, GENERATED_FILE, OPERATIONS_FILE, SCHEMA_FILE } from '../../console/codegen.js';
import { flagStreamId } from '../../src/compliance/cases.js';
import { ComplianceFlagRaised } from '../../src/compliance/events.js';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { ProjectionsService } from '../../src/projections/projections.module.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import type { FinishedSaga } from '../../src/trading/saga.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test-artifacts/console';
const LONG = 120_000;

describe('operator console in Chromium', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;
  let context: BrowserContext;
  let page: Page;
  let adminKey: string;
  let viewerKey: string;
  const consoleOut = mkdtempSync(join(tmpdir(), 'arbiter-console-build-'));
  const profile = mkdtempSync(join(tmpdir(), 'arbiter-chromium-'));
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const keyOf = (h: Record<string, string>) => h.authorization.slice('Bearer '.length);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does this)`);
    mkdirSync(SHOTS, { recursive: true });
    await build({ configFile: 'console/vite.config.ts', logLevel: 'error', build: { outDir: consoleOut, emptyOutDir: true } });
    db = await freshDatabase();
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-console-')), ARBITER_CONSOLE_DIR: consoleOut, SIM_SEED: '5' });
    adminKey = keyOf(await authHeaders(app.app, 'admin'));
    viewerKey = keyOf(await authHeaders(app.app, 'viewer'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1366, height: 900 },
      colorScheme: 'light',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
  }, LONG);
  afterAll(async () => {
    await context?.close();
    await app?.close();
    await db?.drop();
    rmSync(consoleOut, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  const login = async (key: string) => {
    await page.goto(`${app.url}/console/#/engine`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('role').waitFor();
  };
  const go = async (hash: string) => {
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  };
  const reasoned = async (button: string, reason: string, confirm: string) => {
    await page.getByTestId(button).click();
    await page.getByLabel(/Reason for/).fill(reason);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: confirm }).click();
  };

  it('keeps the console’s GraphQL schema and generated types in step with the app', async () => {
    const sdl = `${printSchema(lexicographicSortSchema(app.app.get(GraphQLSchemaHost).schema))}\n`;
    expect(readFileSync(SCHEMA_FILE, 'utf8'), 'console/schema.graphql is stale: run npm run console:codegen').toBe(sdl);
    const operations = readFileSync(OPERATIONS_FILE, 'utf8');
    expect(checkOperations(sdl, operations)).toEqual([]);
    expect(readFileSync(GENERATED_FILE, 'utf8'), 'generated types are stale: run npm run console:codegen').toBe(await generate(sdl, operations));
  });

  it('serves the console at /console and refuses paths outside it', async () => {
    const root = await fetch(`${app.url}/console`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    const index = await fetch(`${app.url}/console/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<div id="app">');
    expect((await fetch(`${app.url}/console/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${app.url}/console/..%2f..%2fpackage.json`)).status).not.toBe(200);
  });

  it('logs in with a key and shows the engine; pausing with a reason changes the mode', async () => {
    await login(adminKey);
    await expect.poll(() => page.getByTestId('engine-mode').textContent()).toBe('ACTIVE');
    await shot('engine');
    await reasoned('pause', 'console test: pause', 'Confirm: Pause');
    await expect.poll(() => page.getByTestId('engine-mode').textContent(), { timeout: 20_000 }).toBe('PAUSED');
    await expect.poll(() => page.getByText('console test: pause').count()).toBeGreaterThan(0);
    await reasoned('resume', 'console test: resume', 'Confirm: Resume');
    await expect.poll(() => page.getByTestId('engine-mode').textContent(), { timeout: 20_000 }).toBe('ACTIVE');
  }, LONG);

  it('shows trades appearing live, without a reload, and opens a decision trail', async () => {
    await go('#/trades');
    await page.getByTestId('trades').waitFor();
    const saga = app.app.get(ArbitrageSagaService);
    const market = app.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
    const navigations: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
    let filled: string | null = null;
    for (let i = 0; i < 40 && !filled; i++) {
      const state = (await saga.runNew(market.next())) as FinishedSaga; // runNew drives a saga to its end
      if (state.outcome === 'filled') filled = state.opportunityId;
    }
    expect(filled).not.toBeNull();
    const row = page.locator(`tr[data-opportunity="${filled}"]`);
    await row.waitFor({ timeout: 30_000 });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('filled');
    expect(navigations.filter((u) => !u.includes('#/trades'))).toEqual([]);
    await shot('trades');
    await row.getByRole('button').first().click();
    await page.getByTestId('trail').waitFor();
    await expect.poll(() => page.locator('.events li').count()).toBeGreaterThanOrEqual(8);
    expect(await page.getByText('FillConfirmed').count()).toBeGreaterThan(0);
    await shot('trade-trail');
  }, LONG);

  it('draws analytics', async () => {
    await app.app.get(ProjectionsService).runner.waitUntilCaughtUp();
    await go('#/analytics');
    await expect.poll(() => page.getByTestId('fill-rate').textContent()).toMatch(/%/);
    await shot('analytics');
  }, LONG);

  it('reviews a compliance flag and downloads a report whose rows match', async () => {
    const flagId = randomUUID();
    await go('#/compliance');
    await page.getByTestId('flags').waitFor({ state: 'attached' });
    await app.app.get<EventStore>(EVENT_STORE).append(
      flagStreamId(flagId),
      [newEvent(ComplianceFlagRaised, { flagId, opportunityId: 'opp-console-1', rule: 'large_transaction', severity: 'blocking', evidence: { notionalUsdMicros: '250000000000' } }, { correlationId: 'opp-console-1', causationId: null, actor: 'test', tenant: 'default' })],
      'no_stream',
    );
    const flag = page.locator(`li[data-flag="${flagId}"]`);
    await flag.waitFor({ timeout: 30_000 }); // arrives by subscription: no reload
    await shot('compliance');
    await flag.getByLabel('Note').fill('checked the counterparty: known desk');
    await flag.getByRole('button', { name: 'Mark reviewed' }).click();
    await page.getByRole('combobox', { name: 'Status' }).selectOption('reviewed');
    await expect.poll(() => page.locator(`li[data-flag="${flagId}"] [data-testid="flag-status"]`).textContent(), { timeout: 20_000 }).toBe('reviewed');

    const downloading = page.waitForEvent('download');
    await page.getByTestId('download-report').click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^daily_transactions-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.split('\r\n').filter(Boolean);
    const { rows } = await db.sql.query<{ n: string }>("SELECT count(*)::text AS n FROM executions WHERE status = 'filled' AND finished_at >= date_trunc('day', now())");
    expect(lines[0]).toMatch(/^executed_at,/);
    expect(lines.length - 1).toBe(Number(rows[0].n));
    expect(lines.length - 1).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('report-result').textContent()).toContain(`${lines.length - 1} rows`);
  }, LONG);

  it('runs verify and rebuilds a projection with a live progress bar to 100 %', async () => {
    await go('#/audit');
    await page.getByTestId('verify').click();
    await expect.poll(() => page.getByTestId('verify-result').textContent(), { timeout: 60_000 }).toMatch(/^OK: \d+ events/);
    await page.locator('tr[data-projection="executions"]').waitFor();
    await reasoned('rebuild-button-executions', 'console test: rebuild', 'Confirm: Rebuild executions');
    await expect.poll(() => page.getByTestId('rebuild-executions').textContent(), { timeout: 60_000 }).toBe('completed 100 %');
    expect(await page.locator('tr[data-projection="executions"] progress').getAttribute('value')).toBe('100');
    await page.getByLabel('Stream', { exact: true }).fill('engine');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.getByTestId('history').locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    await shot('audit');
  }, LONG);

  it('issues a key once and lists it (admin)', async () => {
    await go('#/keys');
    await page.getByLabel('Label').fill('console test key');
    await page.getByRole('button', { name: 'Issue' }).click();
    await expect.poll(() => page.getByTestId('issued-key').textContent()).toMatch(/^arb_[a-z0-9]{12}_/);
    await expect.poll(() => page.getByTestId('keys').getByText('console test key').count()).toBe(1);
    await shot('keys');
  }, LONG);

  it('shows a viewer no pause button and explains why; no Keys page', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await login(viewerKey);
    await expect.poll(() => page.getByTestId('engine-mode').textContent()).toBe('ACTIVE');
    expect(await page.getByTestId('pause').count()).toBe(0);
    expect(await page.getByText(/pausing, resuming and reducing need an operator/).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Keys' }).count()).toBe(0);
    await shot('engine-viewer');
  }, LONG);

  it('fits a phone screen in the dark theme', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // The switch flips the theme (the render applies it a moment after the click); the start
    // depends on the browser's preferred scheme, so flip until it is dark (at most twice).
    const theme = () => page.evaluate('document.documentElement.dataset.theme') as Promise<string>;
    for (let i = 0; i < 2 && (await theme()) !== 'dark'; i++) {
      const before = await theme();
      await page.getByRole('button', { name: 'Switch theme' }).click();
      await page.waitForFunction(`document.documentElement.dataset.theme !== ${JSON.stringify(before)}`);
    }
    expect(await theme()).toBe('dark');
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await page.reload(); // the key (session storage) and the theme (local storage) survive a reload
    await page.getByTestId('engine-mode').waitFor();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await shot('engine-phone-dark');
  }, LONG);
});
