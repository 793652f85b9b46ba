// Engine: the trading mode, since when, by whom and why; pause, resume, reduce (and flatten where
// the API offers it) with a reason and a confirmation; the risk limits (editable by the risk
// role); the circuit breaker; leader and standbys where the engine query exposes them.
import { useEffect, useState } from 'preact/hooks';
import { gql, rest, restRoutes, subscribe } from '../api';
import { EngineChangedDocument, EngineDocument } from '../generated/graphql';
import { Problem, ReasonedAction, Section, ago, time, useLoad, useSoon } from '../ui';
import type { EngineChangedSubscription } from '../generated/graphql';
import type { Features, Session } from '../main';

export function EnginePage({ session, features }: { session: Session; features: Features }) {
  const engine = useLoad(() => gql(EngineDocument, {}));
  const [flatten, setFlatten] = useState(false);
  const [live, setLive] = useState<EngineChangedSubscription['engineChanged'] | null>(null);
  const soon = useSoon(engine.reload);
  useEffect(() => void restRoutes().then((r) => setFlatten(r.has('POST /engine/flatten'))), []);
  useEffect(
    () =>
      subscribe(EngineChangedDocument, {}, (d) => {
        // The event is newer than the read model: show its mode at once, then refetch.
        setLive((prev) => (d.engineChanged.mode ? d.engineChanged : prev ? { ...prev, type: d.engineChanged.type } : null));
        soon();
      }),
    [],
  );
  const stored = engine.data?.engine;
  const e = stored && live && live.mode && BigInt(live.position) > BigInt(stored.history.items[0]?.position ?? '0')
    ? { ...stored, mode: live.mode, since: null as string | null, actor: live.actor, reason: live.reason, cause: null as string | null }
    : stored;
  const canOperate = session.allows.includes('operator');
  const canRisk = session.allows.includes('risk');
  const limits = engine.data?.riskLimitsInForce as Record<string, unknown> | undefined;
  const breaker = limits?.circuitBreaker as Record<string, unknown> | undefined;
  const command = (path: string) => (reason: string) => rest('POST', path, { reason });
  return (
    <div class="grid">
      <Section title="Trading mode">
        <Problem error={engine.error} />
        {e && (
          <div>
            <p class={`mode mode-${e.mode.toLowerCase()}`} data-testid="engine-mode" aria-live="polite">
              {e.mode}
            </p>
            <dl class="facts">
              <dt>Since</dt>
              <dd>{e.since ? `${time(e.since)} (${ago(e.since)})` : 'start (never changed)'}</dd>
              <dt>By</dt>
              <dd>{e.actor ?? '—'}</dd>
              <dt>Why</dt>
              <dd>{e.reason ?? '—'}</dd>
              <dt>Cause</dt>
              <dd>{e.cause ?? '—'}</dd>
            </dl>
            {live && <p class="muted">Live: {live.type} by {live.actor ?? '?'}</p>}
          </div>
        )}
        {canOperate ? (
          <div class="actions" data-testid="engine-actions">
            {e?.mode !== 'PAUSED' && <ReasonedAction label="Pause" danger testId="pause" run={command('/engine/pause')} onDone={soon} />}
            {e?.mode !== 'ACTIVE' && <ReasonedAction label="Resume" testId="resume" run={command('/engine/resume')} onDone={soon} />}
            {e?.mode === 'ACTIVE' && <ReasonedAction label="Reduce" testId="reduce" run={command('/engine/reduce')} onDone={soon} />}
            {flatten && <ReasonedAction label="Flatten" danger testId="flatten" run={command('/engine/flatten')} onDone={soon} />}
          </div>
        ) : (
          <p class="notice forbidden">Your key has the {session.role} role: pausing, resuming and reducing need an operator (or admin) key.</p>
        )}
      </Section>

      <Section title="Circuit breaker">
        {e && (
          <p data-testid="breaker">
            {e.mode === 'PAUSED' && e.cause === 'circuit_breaker' ? <strong class="bad">Tripped — the engine paused itself ({e.reason})</strong> : <span class="good">Armed (not tripped)</span>}
          </p>
        )}
        {breaker && (
          <p class="muted">
            Trips after {String(breaker.consecutiveFailedFills)} failed fills in a row, or a price deviation spike of {String(breaker.deviationSpikeBps)} bps.
          </p>
        )}
      </Section>

      {features.engineFields.some((f) => ['role', 'leader', 'holder', 'standbys'].includes(f)) && <LeaderPanel fields={features.engineFields} />}

      <Section title={`Risk limits (version ${e?.limitsVersion ?? 0})`}>
        {limits && <LimitsTable limits={limits} />}
        {canRisk && limits ? <LimitsEditor limits={limits} onDone={soon} /> : <p class="muted">Changing limits needs a risk (or admin) key.</p>}
      </Section>

      <Section title="Recent changes">
        <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Change</th>
              <th>Mode</th>
              <th>By</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {e?.history.items.map((h) => (
              <tr key={h.position}>
                <td>{time(h.at)}</td>
                <td>{h.type}</td>
                <td>{h.mode}</td>
                <td>{h.actor}</td>
                <td>{h.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      </Section>
    </div>
  );
}

function LimitsTable({ limits }: { limits: Record<string, unknown> }) {
  return (
    <dl class="facts">
      {Object.entries(limits).map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
        </>
      ))}
    </dl>
  );
}

function LimitsEditor({ limits, onDone }: { limits: Record<string, unknown>; onDone: () => void }) {
  const [text, setText] = useState(JSON.stringify(limits, null, 2));
  return (
    <details>
      <summary>Edit limits</summary>
      <label for="limits-json">Limits (JSON, integers as in the API)</label>
      <textarea id="limits-json" rows={12} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <ReasonedAction
        label="Change limits"
        run={async (reason) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            throw new Error('the limits are not valid JSON');
          }
          return rest('PUT', '/risk/limits', { reason, limits: parsed });
        }}
        onDone={onDone}
      />
    </details>
  );
}

/** Leader and standbys, shown only when the engine query has such fields (the HA work adds them). */
function LeaderPanel({ fields }: { fields: string[] }) {
  const wanted = fields.filter((f) => ['role', 'leader', 'holder', 'standbys', 'leaderSince', 'term'].includes(f));
  // Scalars only are asked for; an object field would need a selection and is shown as unavailable.
  const data = useLoad(async () => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionStorage.getItem('arbiter.console.key') ?? ''}` },
      body: JSON.stringify({ query: `{ engine { ${wanted.join(' ')} } }` }),
    });
    const body = await res.json();
    if (body.errors?.length) throw new Error(body.errors[0].message);
    return body.data.engine as Record<string, unknown>;
  });
  return (
    <Section title="Leader and standbys">
      <Problem error={data.error} />
      {data.data && (
        <dl class="facts">
          {Object.entries(data.data).map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
            </>
          ))}
        </dl>
      )}
    </Section>
  );
}
