// Audit: any stream's history as of a time, the ledger's hash-chain verification run from the
// UI, the projections with their lag (live), and a rebuild with a live progress bar (admin).
import { useEffect, useState } from 'preact/hooks';
import { gql, rest, subscribe } from '../api';
import { ProjectionStatusLiveDocument, ProjectionsDocument, RebuildProgressDocument, StreamHistoryDocument, VerifyDocument, type ProjectionsQuery, type RebuildProgressSubscription, type StreamHistoryQuery, type VerifyQuery } from '../generated/graphql';
import { Problem, ReasonedAction, Section, time } from '../ui';
import type { Session } from '../main';

export function AuditPage({ session }: { session: Session }) {
  return (
    <div class="grid">
      <History />
      <Verify />
      <Projections admin={session.allows.includes('admin')} />
    </div>
  );
}

function History() {
  const [streamId, setStreamId] = useState('engine');
  const [until, setUntil] = useState('');
  const [events, setEvents] = useState<StreamHistoryQuery['history'] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  return (
    <Section title="Stream history as of a time">
      <form
        class="row wrap"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            setEvents((await gql(StreamHistoryDocument, { streamId: streamId.trim(), until: until ? new Date(until).toISOString() : null })).history);
          } catch (err) {
            setError(err as Error);
          }
        }}
      >
        <label>
          Stream <input value={streamId} onInput={(e) => setStreamId((e.target as HTMLInputElement).value)} placeholder="engine, arbitrage-<id>, compliance-flag-<id>" />
        </label>
        <label>
          As of (local time) <input type="datetime-local" step="1" value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
        </label>
        <button class="btn" type="submit">
          Show
        </button>
      </form>
      <Problem error={error} />
      {events && (
        <div class="table-wrap">
          <table data-testid="history">
            <thead>
              <tr>
                <th>Rev</th>
                <th>Position</th>
                <th>Recorded</th>
                <th>Type</th>
                <th>Actor</th>
                <th>Payload</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td>{e.revision}</td>
                  <td>{e.position}</td>
                  <td>{time(e.recordedAt)}</td>
                  <td>
                    {e.type} v{e.version}
                  </td>
                  <td>{e.metadata.actor}</td>
                  <td class="mono small">{JSON.stringify(e.payload).slice(0, 160)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {!events.length && <p class="muted">No events in this stream up to that time.</p>}
        </div>
      )}
    </Section>
  );
}

function Verify() {
  const [result, setResult] = useState<VerifyQuery['verifyLedger'] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Section title="Verify the ledger">
      <p class="muted">Recomputes every event's content hash and each stream's hash chain.</p>
      <button
        class="btn"
        data-testid="verify"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            setResult((await gql(VerifyDocument, {})).verifyLedger);
          } catch (err) {
            setError(err as Error);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Verifying…' : 'Run verify'}
      </button>
      <Problem error={error} />
      {result && (
        <p data-testid="verify-result" class={result.ok ? 'good' : 'bad'}>
          {result.ok
            ? `OK: ${result.eventsChecked} events in ${result.streamsChecked} streams verified in ${result.milliseconds} ms`
            : `FAILED at ${result.failure?.streamId} revision ${result.failure?.revision}: ${result.failure?.reason}`}
        </p>
      )}
    </Section>
  );
}

function Projections({ admin }: { admin: boolean }) {
  const [list, setList] = useState<ProjectionsQuery['projections']>([]);
  const [error, setError] = useState<Error | null>(null);
  const [progress, setProgress] = useState<Record<string, RebuildProgressSubscription['rebuildProgress']>>({});
  useEffect(() => {
    gql(ProjectionsDocument, {}).then((d) => setList(d.projections), setError);
    return subscribe(ProjectionStatusLiveDocument, {}, (d) => setList(d.projectionStatus), setError);
  }, []);
  const follow = (name: string) =>
    subscribe(RebuildProgressDocument, { projection: name }, (d) => setProgress((p) => ({ ...p, [name]: d.rebuildProgress })), setError);
  return (
    <Section title="Projections">
      <Problem error={error} />
      {!admin && <p class="muted">Rebuilding a projection needs an admin key.</p>}
      <div class="table-wrap">
        <table data-testid="projections">
          <thead>
            <tr>
              <th>Name</th>
              <th>Generation</th>
              <th>Checkpoint</th>
              <th>Lag</th>
              <th>Error</th>
              <th>Rebuild</th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => {
              const r = progress[p.name];
              return (
                <tr key={p.name} data-projection={p.name}>
                  <td>{p.name}</td>
                  <td class="num">{p.generation}</td>
                  <td class="num">{p.checkpoint}</td>
                  <td class="num">{p.lag}</td>
                  <td>{p.lastError ?? ''}</td>
                  <td>
                    {r && (
                      <div class="progress-wrap">
                        <progress max={100} value={r.percent} aria-label={`rebuild of ${p.name}`} />
                        <span data-testid={`rebuild-${p.name}`}>
                          {r.state} {r.percent} %{r.error ? `: ${r.error}` : ''}
                        </span>
                      </div>
                    )}
                    {admin && (!r || r.state === 'completed' || r.state === 'failed') && (
                      <ReasonedAction label={`Rebuild ${p.name}`} testId={`rebuild-button-${p.name}`} run={async (reason) => {
                        await rest('POST', `/projections/${p.name}/rebuild`, { reason });
                        follow(p.name);
                      }} />
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
