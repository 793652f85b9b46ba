// Live trades: sagas appear and advance as their events are recorded (a subscription, no
// reload); filters by status and token; a click opens one opportunity's whole decision trail.
import { useEffect, useRef, useState } from 'preact/hooks';
import { gql, subscribe } from '../api';
import { ExecutionsDocument, SagaProgressDocument, TrailDocument, type ExecutionsQuery } from '../generated/graphql';
import { Problem, Section, pair, short, time, useLoad } from '../ui';

type Row = ExecutionsQuery['executions']['items'][number];
const STATUSES = ['', 'detected', 'quoted', 'approved', 'rejected_by_risk', 'screened', 'blocked_by_compliance', 'signed', 'submitted', 'filled', 'fill_failed', 'expired', 'abandoned', 'quote_failed'];

export function TradesPage() {
  const [status, setStatus] = useState('');
  const [token, setToken] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const [lastEvent, setLastEvent] = useState<Record<string, string>>({});
  const [fresh, setFresh] = useState<string[]>([]);
  const list = useLoad(() => gql(ExecutionsDocument, { status: status || null, token: token.trim() || null, first: 50 }), [status, token]);
  const timer = useRef<number | null>(null);
  const timer2 = useRef<number | null>(null);
  const [liveError, setLiveError] = useState<Error | null>(null);
  useEffect(
    () =>
      subscribe(
        SagaProgressDocument,
        {},
        (d) => {
          const ev = d.sagaProgress;
          setLastEvent((m) => ({ ...m, [ev.opportunityId]: ev.type }));
          setFresh((f) => (f.includes(ev.opportunityId) ? f : [ev.opportunityId, ...f].slice(0, 50)));
          if (timer.current) clearTimeout(timer.current);
          timer.current = window.setTimeout(() => list.reload(), 400);
          if (timer2.current) clearTimeout(timer2.current);
          timer2.current = window.setTimeout(() => list.reload(), 2500);
        },
        setLiveError,
      ),
    [],
  );
  const rows: Row[] = list.data?.executions.items ?? [];
  const known = new Set(rows.map((r) => r.opportunityId));
  const pending = fresh.filter((id) => !known.has(id));
  return (
    <div class="grid">
      <Section
        title="Live trades"
        actions={
          <form class="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Status{' '}
              <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
                {STATUSES.map((s) => (
                  <option value={s}>{s || 'any'}</option>
                ))}
              </select>
            </label>
            <label>
              Token <input value={token} placeholder="SOL or a mint" onChange={(e) => setToken((e.target as HTMLInputElement).value)} />
            </label>
          </form>
        }
      >
        <Problem error={list.error ?? liveError} />
        <div class="table-wrap">
          <table data-testid="trades">
            <thead>
              <tr>
                <th>Started</th>
                <th>Pair</th>
                <th>Status</th>
                <th>Latest event</th>
                <th>Amount in</th>
                <th>PnL</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {pending.map((id) => (
                <tr key={id} class="fresh" data-opportunity={id}>
                  <td colSpan={2}>
                    <button class="link" onClick={() => setOpen(id)}>{short(id, 8)}</button>
                  </td>
                  <td>in progress</td>
                  <td>{lastEvent[id]}</td>
                  <td colSpan={3} />
                </tr>
              ))}
              {rows.map((r) => (
                <tr key={r.opportunityId} class={fresh.includes(r.opportunityId) ? 'fresh' : ''} data-opportunity={r.opportunityId}>
                  <td>
                    <button class="link" onClick={() => setOpen(r.opportunityId)} aria-label={`Open the trail of ${r.opportunityId}`}>
                      {time(r.firstAt)}
                    </button>
                  </td>
                  <td>{pair(r.symbolA, r.symbolB)}</td>
                  <td>
                    <span class={`status status-${r.status}`}>{r.status}</span>
                  </td>
                  <td>{lastEvent[r.opportunityId] ?? '—'}</td>
                  <td class="num">{r.amountIn ?? '—'}</td>
                  <td class="num">{r.realisedPnl ?? '—'}</td>
                  <td>{r.reason ?? (r.failedChecks?.length ? r.failedChecks.join(', ') : '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {!rows.length && !pending.length && !list.loading && <p class="muted">No trades yet: they appear here as the engine records them.</p>}
      </Section>
      {open && <Trail id={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

function Trail({ id, onClose }: { id: string; onClose: () => void }) {
  const t = useLoad(() => gql(TrailDocument, { opportunityId: id, streamId: `arbitrage-${id}` }), [id]);
  useEffect(() => subscribe(SagaProgressDocument, {}, (d) => d.sagaProgress.opportunityId === id && t.reload()), [id]);
  const x = t.data?.execution;
  return (
    <Section title={`Decision trail ${short(id, 13)}`} actions={<button class="btn ghost" onClick={onClose}>Close</button>}>
      <Problem error={t.error} />
      {x && (
        <dl class="facts" data-testid="trail">
          <dt>Status</dt>
          <dd>{x.status}</dd>
          <dt>Pair</dt>
          <dd>{pair(x.symbolA, x.symbolB)}</dd>
          <dt>In / expected out / out</dt>
          <dd>
            {x.amountIn ?? '—'} / {x.expectedOut ?? '—'} / {x.amountOut ?? '—'}
          </dd>
          <dt>Expected profit / realised PnL</dt>
          <dd>
            {x.expectedProfit ?? '—'} / {x.realisedPnl ?? '—'}
          </dd>
          <dt>Fees (lamports)</dt>
          <dd>{x.feeLamports ?? '—'}</dd>
          <dt>Compliance</dt>
          <dd>{x.complianceDecision ?? '—'}{x.complianceFlagIds?.length ? ` (flags ${x.complianceFlagIds.join(', ')})` : ''}</dd>
          <dt>Signature</dt>
          <dd class="mono">{x.signature ?? '—'}</dd>
          <dt>Venue / slot</dt>
          <dd>
            {x.venue ?? '—'} / {x.slot ?? '—'}
          </dd>
        </dl>
      )}
      <h3>Risk checks</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Check</th>
              <th>Passed</th>
              <th>Observed</th>
              <th>Limit</th>
              <th>Inputs</th>
            </tr>
          </thead>
          <tbody>
            {t.data?.riskDecisions.items.map((c) => (
              <tr key={c.check}>
                <td>{c.check}</td>
                <td class={c.passed ? 'good' : 'bad'}>{c.passed ? 'yes' : 'no'}</td>
                <td class="num">
                  {c.observed ?? '—'} {c.unit}
                </td>
                <td class="num">
                  {c.limit ?? '—'} {c.unit}
                </td>
                <td class="mono small">{JSON.stringify(c.inputs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Events</h3>
      <ol class="events">
        {t.data?.history.map((e) => (
          <li key={e.position}>
            <details>
              <summary>
                {time(e.recordedAt)} · <strong>{e.type}</strong> · #{e.position}
              </summary>
              <pre>{JSON.stringify(e.payload, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
    </Section>
  );
}
