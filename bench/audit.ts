// Audit benchmark: on the GraphQL benchmark's ledger (bench/graphql.ts builds it: template sagas
// through the app, copied to the target size over 30 days, projections caught up, the server in
// its own process), how long a point-in-time question at the middle of the log takes: the daily
// report as of the middle position (cold: the reports projection is built up to there into a
// temporary generation; warm: the same generation reused), the engine's state folded up to
// there, one saga as of there, and the live report for comparison. Prints figures; asserts nothing.
import { graphqlBench } from './graphql.js';

async function timed(url: string, key: string, query: string, variables: Record<string, unknown>): Promise<{ ms: number; data: any; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  const body = JSON.parse(text) as { data?: any; errors?: { message: string }[] };
  if (res.status !== 200 || body.errors) throw new Error(`${query.slice(0, 60)}…: ${res.status} ${JSON.stringify(body.errors)}`);
  return { ms, data: body.data, bytes: text.length };
}

/**
 * Asks until answered: a point-in-time question whose build outlasts the request's budget is
 * answered POINT_IN_TIME_BUILDING (the build goes on); ask again after the suggested delay (at
 * most 2 s here). The time is from the first ask to the answer: what an auditor waits.
 */
async function untilAnswered(url: string, key: string, query: string, variables: Record<string, unknown>): Promise<{ ms: number; data: any; asks: number }> {
  const t0 = performance.now();
  for (let asks = 1; ; asks++) {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = JSON.parse(await res.text()) as { data?: any; errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[] };
    const building = body.errors?.find((e) => e.extensions?.code === 'POINT_IN_TIME_BUILDING');
    if (building) {
      console.log(`    ask ${asks}: ${building.message.slice(0, 160)}`);
      await new Promise((r) => setTimeout(r, Math.min(2, building.extensions?.retryAfterSeconds ?? 1) * 1000));
      continue;
    }
    if (res.status !== 200 || body.errors) throw new Error(`${query.slice(0, 60)}…: ${res.status} ${JSON.stringify(body.errors)}`);
    return { ms: performance.now() - t0, data: body.data, asks };
  }
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function auditBench(databaseUrl: string, events: number, templates: number): Promise<{ ledger: string; rows: string[][] }> {
  return graphqlBench(databaseUrl, {
    events,
    templates,
    seconds: 0,
    connections: 1,
    measure: async ({ url, key, sql, head }) => {
      const mid = head / 2n;
      const at = await sql.query<{ recorded_at: Date }>('SELECT recorded_at FROM events WHERE global_position = $1', [mid.toString()]);
      const midTime = new Date(at.rows[0].recorded_at);
      const day = new Date(Date.UTC(midTime.getUTCFullYear(), midTime.getUTCMonth(), midTime.getUTCDate() - 1));
      const vars = { from: day.toISOString(), to: new Date(day.getTime() + 86_400_000).toISOString(), p: mid.toString() };
      const report = `query($from: DateTime!, $to: DateTime!, $p: String) { report(kind: DAILY_TRANSACTIONS, from: $from, to: $to, asOfPosition: $p) { rowCount asOfPosition } }`;
      const rows: string[][] = [];
      const row = (name: string, ms: number, note: string) => {
        rows.push([name, ms.toFixed(0), note]);
        console.log(`  ${name.padEnd(70)} ${ms.toFixed(0).padStart(8)} ms  ${note}`);
      };
      console.log(`point-in-time questions at position ${mid} of ${head} (${midTime.toISOString()}); report day ${vars.from.slice(0, 10)}`);
      const cold = await untilAnswered(url, key, report, vars);
      const builds = await timed(url, key, `{ pointInTimeBuilds { projection eventsApplied seconds } }`, {});
      const b = builds.data.pointInTimeBuilds.find((x: any) => x.projection === 'reports');
      row('report(DAILY_TRANSACTIONS, one day, asOfPosition: middle), cold', cold.ms, `${cold.data.report.rowCount} rows; built reports up to the middle: ${b?.eventsApplied ?? '?'} events in ${b?.seconds ?? '?'} s; ${cold.asks} asks (POINT_IN_TIME_BUILDING until built)`);
      const warm: number[] = [];
      for (let i = 0; i < 5; i++) warm.push((await timed(url, key, report, vars)).ms);
      row('the same, warm (temporary generation reused), p50 of 5', p50(warm), `${cold.data.report.rowCount} rows`);
      const live: number[] = [];
      for (let i = 0; i < 5; i++) live.push((await timed(url, key, report, { ...vars, p: null })).ms);
      row('the same day from the live read model, p50 of 5', p50(live), '');
      const engine = await untilAnswered(url, key, `query($p: String) { engine(asOfPosition: $p) { mode limitsVersion realisedToday consecutiveFailedFills } }`, { p: mid.toString() });
      row('engine(asOfPosition: middle): the fold up to there', engine.ms, '');
      const opp = await sql.query<{ id: string }>(
        `SELECT correlation_id AS id FROM events WHERE event_type = 'FillConfirmed' AND global_position < $1 ORDER BY global_position DESC LIMIT 1`,
        [mid.toString()],
      );
      const saga = await timed(url, key, `query($id: String!, $p: String) { saga(opportunityId: $id, asOfPosition: $p) { phase revision } }`, { id: opp.rows[0].id, p: mid.toString() });
      row('saga(opportunityId, asOfPosition: middle)', saga.ms, saga.data.saga?.phase ?? 'none');
      return rows;
    },
  });
}
