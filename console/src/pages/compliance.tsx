// Compliance: the flag queue by severity and age (live), review and close with a note and an
// outcome, and the suspicious-activity and daily transaction reports as CSV or JSON downloads.
import { useEffect, useState } from 'preact/hooks';
import { gql, rest, subscribe } from '../api';
import { FlagChangedDocument, FlagsDocument, ReportDocument, type ReportKind, type ReportFormat } from '../generated/graphql';
import { Problem, Section, ago, short, useLoad, useSoon } from '../ui';
import type { Session } from '../main';

export function CompliancePage({ session }: { session: Session }) {
  const [status, setStatus] = useState('open');
  const flags = useLoad(() => gql(FlagsDocument, { status: status || null }), [status]);
  const soon = useSoon(flags.reload);
  // Reload over the next seconds too: a flag raised between the first load and the moment the
  // subscription is live on the server would otherwise stay hidden until the next change.
  useEffect(() => {
    soon();
    return subscribe(FlagChangedDocument, {}, soon);
  }, []);
  const canAct = session.allows.includes('compliance');
  const items = [...(flags.data?.complianceFlags.items ?? [])].sort(
    (a, b) => (a.severity === b.severity ? Date.parse(a.raisedAt ?? '') - Date.parse(b.raisedAt ?? '') : a.severity === 'blocking' ? -1 : 1),
  );
  return (
    <div class="grid">
      <Section
        title="Flag queue"
        actions={
          <label>
            Status{' '}
            <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
              <option value="open">open</option>
              <option value="reviewed">reviewed</option>
              <option value="closed">closed</option>
              <option value="">any</option>
            </select>
          </label>
        }
      >
        <Problem error={flags.error} />
        {!canAct && <p class="notice forbidden">Your key has the {session.role} role: reviewing and closing flags needs a compliance (or admin) key.</p>}
        <ul class="flags" data-testid="flags">
          {items.map((f) => (
            <li key={f.flagId} class={`flag sev-${f.severity}`} data-flag={f.flagId}>
              <div class="row spread">
                <strong>{f.rule}</strong>
                <span class={`badge ${f.severity}`}>{f.severity}</span>
              </div>
              <div class="muted">
                raised {ago(f.raisedAt)} · opportunity {short(f.opportunityId, 8)} · <span data-testid="flag-status">{f.status}</span>
                {f.outcome ? ` · ${f.outcome}` : ''}
              </div>
              <details>
                <summary>Evidence</summary>
                <pre>{JSON.stringify(f.evidence, null, 2)}</pre>
              </details>
              {f.reviewNote && <p>Review: {f.reviewNote} ({f.reviewedBy})</p>}
              {f.closeNote && <p>Closed: {f.closeNote} ({f.closedBy})</p>}
              {canAct && f.status !== 'closed' && <FlagAction flagId={f.flagId} status={f.status} onDone={soon} />}
            </li>
          ))}
        </ul>
        {!items.length && !flags.loading && <p class="muted">No {status} flags.</p>}
      </Section>
      <Reports />
    </div>
  );
}

function FlagAction({ flagId, status, onDone }: { flagId: string; status: string; onDone: () => void }) {
  const [note, setNote] = useState('');
  const [action, setAction] = useState<'review' | 'close'>(status === 'open' ? 'review' : 'close');
  const [outcome, setOutcome] = useState('dismissed');
  const [error, setError] = useState<Error | null>(null);
  return (
    <form
      class="reasoned"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        if (!note.trim()) return setError(new Error('a note is required'));
        try {
          await rest('POST', `/compliance/flags/${flagId}/review`, action === 'close' ? { action, note: note.trim(), outcome } : { action, note: note.trim() });
          setNote('');
          onDone();
        } catch (err) {
          setError(err as Error);
        }
      }}
    >
      <div class="row">
        <label>
          Action{' '}
          <select value={action} onChange={(e) => setAction((e.target as HTMLSelectElement).value as 'review' | 'close')}>
            {status === 'open' && <option value="review">review</option>}
            <option value="close">close</option>
          </select>
        </label>
        {action === 'close' && (
          <label>
            Outcome{' '}
            <select value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
              <option value="dismissed">dismissed</option>
              <option value="reported">reported</option>
            </select>
          </label>
        )}
      </div>
      <label for={`note-${flagId}`}>Note</label>
      <input id={`note-${flagId}`} value={note} maxLength={4000} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      <button class="btn" type="submit">
        {action === 'close' ? 'Close flag' : 'Mark reviewed'}
      </button>
      <Problem error={error} />
    </form>
  );
}

const today = () => new Date().toISOString().slice(0, 10);

function Reports() {
  const [kind, setKind] = useState<ReportKind>('DAILY_TRANSACTIONS');
  const [format, setFormat] = useState<ReportFormat>('CSV');
  const [from, setFrom] = useState(today());
  const [to, setTo] = useState(new Date(Date.now() + 86_400_000).toISOString().slice(0, 10));
  const [error, setError] = useState<Error | null>(null);
  const [last, setLast] = useState<string | null>(null);
  return (
    <Section title="Reports">
      <form
        class="reasoned"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const r = (await gql(ReportDocument, { kind, from: `${from}T00:00:00.000Z`, to: `${to}T00:00:00.000Z`, format })).report;
            const name = `${kind.toLowerCase()}-${from}-${to}.${format === 'CSV' ? 'csv' : 'json'}`;
            const a = document.createElement('a');
            a.href = URL.createObjectURL(new Blob([r.content], { type: r.contentType }));
            a.download = name;
            document.body.append(a);
            a.click();
            a.remove();
            setLast(`${name}: ${r.rowCount} rows (${r.columns.length} columns)`);
          } catch (err) {
            setError(err as Error);
          }
        }}
      >
        <div class="row">
          <label>
            Report{' '}
            <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as ReportKind)}>
              <option value="DAILY_TRANSACTIONS">Daily transactions</option>
              <option value="SUSPICIOUS_ACTIVITY">Suspicious activity</option>
            </select>
          </label>
          <label>
            Format{' '}
            <select value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value as ReportFormat)}>
              <option value="CSV">CSV</option>
              <option value="JSON">JSON</option>
            </select>
          </label>
        </div>
        <div class="row">
          <label>
            From (UTC day) <input type="date" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            To (exclusive) <input type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          </label>
        </div>
        <button class="btn" type="submit" data-testid="download-report">
          Download
        </button>
        {last && <p class="good" data-testid="report-result">{last}</p>}
        <Problem error={error} />
      </form>
    </Section>
  );
}
