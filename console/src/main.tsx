// The operator console: log in with an API key, then the pages its role may use. Routing is by
// URL hash (#/engine …) so every page has an address and works behind any path prefix. Features
// other work adds (flatten, leader info, …) are found by asking the API (introspection, the
// OpenAPI document), never assumed.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentKey, gql, setKey } from './api';
import { FeaturesDocument, WhoamiDocument } from './generated/graphql';
import { AnalyticsPage } from './pages/analytics';
import { AuditPage } from './pages/audit';
import { CompliancePage } from './pages/compliance';
import { EnginePage } from './pages/engine';
import { KeysPage } from './pages/keys';
import { TradesPage } from './pages/trades';
import { Problem } from './ui';
import './styles.css';

export interface Session {
  keyId: string;
  role: string;
  label: string;
  allows: string[];
}
export interface Features {
  queries: string[];
  subscriptions: string[];
  engineFields: string[];
}

const PAGES = [
  { id: 'engine', title: 'Engine' },
  { id: 'trades', title: 'Live trades' },
  { id: 'analytics', title: 'Analytics' },
  { id: 'compliance', title: 'Compliance' },
  { id: 'audit', title: 'Audit' },
  { id: 'keys', title: 'Keys', role: 'admin' },
] as const;

const pageOf = () => (location.hash.replace(/^#\/?/, '') || 'engine').split('?')[0];

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [key, setValue] = useState('');
  const [error, setError] = useState<Error | null>(null);
  return (
    <main class="login">
      <h1>Arbiter console</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setKey(key.trim());
          try {
            onLogin((await gql(WhoamiDocument, {})).whoami);
          } catch (err) {
            setKey(null);
            setError(err instanceof ApiError && err.status === 401 ? new Error('That key is not valid (unknown, revoked or mistyped).') : (err as Error));
          }
        }}
      >
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" value={key} placeholder="arb_…" onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        <button class="btn" type="submit">
          Log in
        </button>
        <p class="muted">On first run the admin key is in the file the log names (&lt;data dir&gt;/admin-api-key). The key stays in this tab only.</p>
        <Problem error={error} />
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [features, setFeatures] = useState<Features>({ queries: [], subscriptions: [], engineFields: [] });
  const [page, setPage] = useState(pageOf());
  const [theme, setTheme] = useState<string>(localStorage.getItem('arbiter.console.theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('arbiter.console.theme', theme);
  }, [theme]);
  useEffect(() => {
    const on = () => setPage(pageOf());
    addEventListener('hashchange', on);
    if (currentKey()) gql(WhoamiDocument, {}).then((d) => setSession(d.whoami), () => setKey(null));
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    if (!session) return;
    gql(FeaturesDocument, {})
      .then((f) =>
        setFeatures({
          queries: f.__schema.queryType.fields?.map((x) => x.name) ?? [],
          subscriptions: f.__schema.subscriptionType?.fields?.map((x) => x.name) ?? [],
          engineFields: f.engineType?.fields?.map((x) => x.name) ?? [],
        }),
      )
      .catch(() => undefined);
  }, [session]);
  if (!session) return <Login onLogin={setSession} />;
  const visible = PAGES.filter((p) => !('role' in p) || session.allows.includes(p.role));
  const current = visible.find((p) => p.id === page) ?? visible[0];
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <strong class="brand">Arbiter</strong>
        <nav aria-label="Pages">
          {visible.map((p) => (
            <a href={`#/${p.id}`} aria-current={p.id === current.id ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <div class="who">
          <span data-testid="role">
            {session.label} · <strong>{session.role}</strong>
          </span>
          <button class="btn ghost" aria-label="Switch theme" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>
            {theme === 'dark' ? 'Light' : 'Dark'}
          </button>
          <button class="btn ghost" onClick={() => (setKey(null), setSession(null))}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <h1 class="page-title">{current.title}</h1>
        {current.id === 'engine' && <EnginePage session={session} features={features} />}
        {current.id === 'trades' && <TradesPage />}
        {current.id === 'analytics' && <AnalyticsPage />}
        {current.id === 'compliance' && <CompliancePage session={session} />}
        {current.id === 'audit' && <AuditPage session={session} />}
        {current.id === 'keys' && <KeysPage />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
