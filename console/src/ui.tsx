// Small shared pieces of the console: loading a query with its error, the notice that explains a
// refused call, a two-step confirmation with a required reason, and formatting helpers.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError } from './api';

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/**
 * A reload that runs a few times over the next seconds: a live event arrives as soon as it is
 * recorded, and the read model a query reads may fold it in a moment later (up to ~20 s behind
 * on a loaded server).
 */
export function useSoon(reload: () => void): () => void {
  return useCallback(() => {
    for (const ms of [150, 800, 2000, 5000, 10_000, 20_000]) setTimeout(reload, ms);
  }, [reload]);
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((d) => live && (setData(d), setError(null)))
      .catch((e) => live && setError(e as Error))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, loading, reload: useCallback(() => setTick((t) => t + 1), []) };
}

/** Explains an error; a 403 says which role it needs and which the key has. */
export function Problem({ error }: { error: Error | null }) {
  if (!error) return null;
  const forbidden = error instanceof ApiError && error.forbidden;
  return (
    <div class={forbidden ? 'notice forbidden' : 'notice error'} role="alert">
      <strong>{forbidden ? 'Not allowed for this key (403). ' : 'Failed. '}</strong>
      {error.message}
    </div>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <header class="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/**
 * A command button that asks for a reason, then for a confirmation, then runs `run(reason)`.
 */
export function ReasonedAction({ label, run, danger, onDone, testId }: { label: string; run: (reason: string) => Promise<unknown>; danger?: boolean; onDone?: () => void; testId?: string }) {
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `reason-${label.replace(/\W+/g, '-').toLowerCase()}`;
  if (!open) {
    return (
      <button class={danger ? 'btn danger' : 'btn'} data-testid={testId} onClick={() => (setOpen(true), setConfirming(false), setError(null))}>
        {label}
      </button>
    );
  }
  return (
    <form
      class="reasoned"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!reason.trim()) return setError(new Error('a reason is required'));
        if (!confirming) return setConfirming(true);
        setBusy(true);
        try {
          await run(reason.trim());
          setOpen(false);
          setReason('');
          onDone?.();
        } catch (err) {
          setError(err as Error);
          setConfirming(false);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for={id}>Reason for “{label}”</label>
      <input id={id} value={reason} required maxLength={500} autoFocus onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      <div class="row">
        <button type="submit" class={confirming || danger ? 'btn danger' : 'btn'} disabled={busy}>
          {confirming ? `Confirm: ${label}` : 'Continue'}
        </button>
        <button type="button" class="btn ghost" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      {confirming && <p class="muted">This is recorded with your key and reason. Press “Confirm” to go ahead.</p>}
      <Problem error={error} />
    </form>
  );
}

export const ago = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : s < 86400 ? `${Math.floor(s / 3600)}h ago` : `${Math.floor(s / 86400)}d ago`;
};
export const time = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '—');
export const pair = (a: string | null, b: string | null) => `${a ?? '?'}/${b ?? '?'}`;
export const short = (s: string | null | undefined, n = 10) => (!s ? '—' : s.length > n ? `${s.slice(0, n)}…` : s);

/** Horizontal bars for label → integer value (signed: negatives drawn the other way). */
export function Bars({ rows, unit, label }: { rows: { label: string; value: bigint }[]; unit: string; label: string }) {
  if (!rows.length) return <p class="muted">No data yet.</p>;
  const max = rows.reduce((m, r) => (r.value < 0n ? (-r.value > m ? -r.value : m) : r.value > m ? r.value : m), 1n);
  return (
    <svg class="bars" role="img" aria-label={label} viewBox={`0 0 400 ${rows.length * 22 + 4}`} preserveAspectRatio="xMinYMin meet">
      {rows.map((r, i) => {
        const w = Number(((r.value < 0n ? -r.value : r.value) * 110n) / max);
        const neg = r.value < 0n;
        return (
          <g key={r.label} transform={`translate(0 ${i * 22 + 2})`}>
            <text x="0" y="14" class="bar-label">{r.label}</text>
            <rect x={neg ? 230 - w : 230} y="3" width={Math.max(1, w)} height="14" class={neg ? 'bar neg' : 'bar'} />
            <text x="398" y="14" text-anchor="end" class="bar-value">{`${r.value} ${unit}`}</text>
          </g>
        );
      })}
    </svg>
  );
}
