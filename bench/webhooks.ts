// Webhook delivery benchmark on the local PostgreSQL: a loopback receiver that answers 204 at
// once, subscriptions to EnginePaused/EngineResumed, and (1) catch-up throughput: deliveries per
// second for a backlog already in the log, one worker per subscription; (2) delay: events
// appended one at a time, the time from the append returning to the receiver having the request.
// Each delivery includes its signed POST and the append of its WebhookDeliveryAttempted record.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildEventRegistry } from '../src/event-catalog.js';
import { newEvent } from '../src/ledger/event-types.js';
import { PostgresEventStore } from '../src/ledger/postgres/postgres-event-store.js';
import { CreateWebhookSubscription, CreateWebhookSubscriptionHandler } from '../src/notifications/commands/subscription-commands.js';
import { WebhookDeliveryService } from '../src/notifications/delivery.service.js';
import { LeadershipService } from '../src/ledger/leadership/leadership.service.js';
import { loadConfig } from '../src/config/config.js';
import { EnginePaused, EngineResumed, ENGINE_STREAM_ID } from '../src/risk/events.js';
import { Metrics } from '../src/shared/metrics/metrics.js';
import { migrate } from '../src/shared/sql/migrator.js';
import { PgSqlClient } from '../src/shared/sql/pg-client.js';
import { setTimeout as sleep } from 'node:timers/promises';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function webhooksBench(databaseUrl: string, opts: { backlog: number; subscriptions: number; live: number }): Promise<string[][]> {
  const sql = new PgSqlClient(databaseUrl, { max: 12 });
  await migrate(sql);
  const store = new PostgresEventStore(sql, buildEventRegistry());
  const arrivals = new Map<string, number>(); // `${subscription} ${event}` → ms
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.set(`${req.headers['x-arbiter-subscription-id']} ${req.headers['x-arbiter-event-id']}`, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const meta = { correlationId: 'bench', causationId: null, actor: 'bench', tenant: 'default' };
  const toggle = (i: number) =>
    i % 2 === 0 ? newEvent(EnginePaused, { actor: 'bench', reason: `pause ${i}`, cause: 'operator' }, meta) : newEvent(EngineResumed, { actor: 'bench', reason: `resume ${i}` }, meta);
  const create = new CreateWebhookSubscriptionHandler(store, sql);
  const subs: string[] = [];
  for (let s = 0; s < opts.subscriptions; s++) {
    const c = await create.execute(new CreateWebhookSubscription({ actor: 'bench', correlationId: 'bench' }, { url, eventTypes: ['EnginePaused', 'EngineResumed'], minSeverity: null, description: `bench ${s}` }));
    subs.push(c.subscriptionId);
  }
  for (let i = 0; i < opts.backlog; i += 100) {
    await store.append(ENGINE_STREAM_ID, Array.from({ length: Math.min(100, opts.backlog - i) }, (_, j) => toggle(i + j)), 'any');
  }
  // One node, no lease (ENGINE_HA=off): it delivers, as a lone node or the leader does.
  const config = loadConfig({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', ENGINE_HA: 'off' });
  const metrics = new Metrics({ defaultMetrics: false });
  const service = new WebhookDeliveryService(store, sql, config.notifications, metrics, new LeadershipService(config, sql, store, metrics));
  const rows: string[][] = [];
  try {
    const want = opts.backlog * opts.subscriptions;
    const t0 = performance.now();
    await service.start();
    while (arrivals.size < want) await sleep(5);
    const seconds = (performance.now() - t0) / 1000;
    rows.push([`catch-up: ${opts.backlog} events × ${opts.subscriptions} subscription(s)`, String(want), seconds.toFixed(2), String(Math.round(want / seconds))]);

    const delays: number[] = [];
    for (let i = 0; i < opts.live; i++) {
      const e = toggle(opts.backlog + i);
      await store.append(ENGINE_STREAM_ID, [e], 'any');
      const appended = performance.now();
      const keys = subs.map((s) => `${s} ${e.id}`);
      while (keys.some((k) => !arrivals.has(k))) await new Promise((r) => setImmediate(r));
      for (const k of keys) delays.push(arrivals.get(k)! - appended);
      await sleep(20);
    }
    delays.sort((a, b) => a - b);
    rows.push([`event → delivery delay, ${opts.live} events one at a time`, String(delays.length), `p50 ${pct(delays, 50).toFixed(1)} ms`, `p99 ${pct(delays, 99).toFixed(1)} ms`]);
  } finally {
    await service.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await sql.close();
  }
  return rows;
}
