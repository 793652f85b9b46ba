// Analytics from the read models: realised PnL per day and per pair, exposure per token, fill
// rate, which risk checks fail most, and saga latency percentiles (first event to end).
import { gql } from '../api';
import { AnalyticsDocument } from '../generated/graphql';
import { Bars, Problem, Section, useLoad } from '../ui';

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function AnalyticsPage() {
  const a = useLoad(() => gql(AnalyticsDocument, {}));
  const d = a.data;
  const byDay = new Map<string, bigint>();
  const byPair = new Map<string, bigint>();
  for (const r of d?.pnlDaily.items ?? []) {
    byDay.set(r.day, (byDay.get(r.day) ?? 0n) + BigInt(r.realisedPnl));
    const p = `${r.symbolA ?? '?'}/${r.symbolB ?? '?'}`;
    byPair.set(p, (byPair.get(p) ?? 0n) + BigInt(r.realisedPnl));
  }
  const mint = d?.pnlDaily.items[0]?.pnlMint ?? '';
  const ex = d?.executions.items ?? [];
  const finished = ex.filter((x) => x.finishedAt);
  const filled = finished.filter((x) => x.status === 'filled').length;
  const latencies = finished.map((x) => Date.parse(x.finishedAt!) - Date.parse(x.firstAt)).sort((x, y) => x - y);
  const reasons = new Map<string, bigint>();
  for (const r of d?.failed.items ?? []) reasons.set(r.check, (reasons.get(r.check) ?? 0n) + 1n);
  return (
    <div class="grid">
      <Problem error={a.error} />
      <Section title="Realised PnL per day">
        <p class="muted">Base units of {mint ? mint.slice(0, 8) + '…' : 'the input mint'}, gross of network fees.</p>
        <Bars label="Realised PnL per day" unit="" rows={[...byDay].sort().map(([label, value]) => ({ label, value }))} />
      </Section>
      <Section title="Realised PnL per pair">
        <Bars label="Realised PnL per pair" unit="" rows={[...byPair].map(([label, value]) => ({ label, value }))} />
      </Section>
      <Section title="Fill rate and latency">
        <dl class="facts" data-testid="fill-rate">
          <dt>Fill rate</dt>
          <dd>{finished.length ? `${((filled * 100) / finished.length).toFixed(1)} % (${filled} of ${finished.length} finished)` : '—'}</dd>
          <dt>Saga latency p50 / p90 / p99</dt>
          <dd>{latencies.length ? [50, 90, 99].map((p) => `${percentile(latencies, p)} ms`).join(' / ') : '—'}</dd>
        </dl>
        <p class="muted">Of the latest {ex.length} opportunities.</p>
      </Section>
      <Section title="Rejection reasons (failed checks)">
        <Bars label="Failed risk checks" unit="×" rows={[...reasons].sort((x, y) => Number(y[1] - x[1])).map(([label, value]) => ({ label, value }))} />
      </Section>
      <Section title="Exposure per token">
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Token</th>
                <th>Received</th>
                <th>Spent</th>
                <th>Net</th>
                <th>Fills</th>
              </tr>
            </thead>
            <tbody>
              {d?.tokenExposure.items.map((t) => (
                <tr key={t.mint}>
                  <td title={t.mint}>{t.symbol ?? t.mint.slice(0, 8)}</td>
                  <td class="num">{t.received}</td>
                  <td class="num">{t.spent}</td>
                  <td class="num">{t.net}</td>
                  <td class="num">{t.fills}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted">Net settled flow from confirmed fills, in base units (not a balance).</p>
      </Section>
    </div>
  );
}
