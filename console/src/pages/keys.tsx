// Keys (admin): issue a key (shown once), list them, revoke one.
import { useState } from 'preact/hooks';
import { rest } from '../api';
import { Problem, ReasonedAction, Section, time, useLoad } from '../ui';

interface KeyInfo {
  keyId: string;
  role: string;
  label: string;
  createdAt: string;
  revokedAt: string | null;
}
const ROLES = ['viewer', 'operator', 'risk', 'compliance', 'admin'];

export function KeysPage() {
  const keys = useLoad(() => rest<{ keys: KeyInfo[] }>('GET', '/keys'));
  const [role, setRole] = useState('viewer');
  const [label, setLabel] = useState('');
  const [issued, setIssued] = useState<{ key: string; keyId: string } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  return (
    <div class="grid">
      <Section title="Issue a key">
        <form
          class="row wrap"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              const r = await rest<{ key: string; keyId: string }>('POST', '/keys', { role, label: label.trim() });
              setIssued(r);
              setLabel('');
              keys.reload();
            } catch (err) {
              setError(err as Error);
            }
          }}
        >
          <label>
            Role{' '}
            <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
              {ROLES.map((r) => (
                <option value={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            Label <input value={label} required maxLength={100} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
          </label>
          <button class="btn" type="submit">
            Issue
          </button>
        </form>
        <Problem error={error} />
        {issued && (
          <div class="notice" role="status">
            <p>
              New key <strong>{issued.keyId}</strong> — copy it now, it is not shown again:
            </p>
            <code class="mono" data-testid="issued-key">{issued.key}</code>
          </div>
        )}
      </Section>
      <Section title="Keys">
        <Problem error={keys.error} />
        <div class="table-wrap">
          <table data-testid="keys">
            <thead>
              <tr>
                <th>Id</th>
                <th>Role</th>
                <th>Label</th>
                <th>Created</th>
                <th>Revoked</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {keys.data?.keys.map((k) => (
                <tr key={k.keyId}>
                  <td class="mono">{k.keyId}</td>
                  <td>{k.role}</td>
                  <td>{k.label}</td>
                  <td>{time(k.createdAt)}</td>
                  <td>{k.revokedAt ? time(k.revokedAt) : '—'}</td>
                  <td>{!k.revokedAt && <ReasonedAction label={`Revoke ${k.keyId}`} danger run={(reason) => rest('DELETE', `/keys/${k.keyId}`, { reason })} onDone={keys.reload} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
    </div>
  );
}
