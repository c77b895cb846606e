// The app shell: who is signed in (GET /api/me), the top bar with navigation (a menu button at
// phone width), and the page for the current hash route. A 401 from any call returns to #/login
// and, after signing in, to the page that was open.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type { Me } from './api';
import { ApiError, api, apiFetch, UNAUTHORIZED_EVENT } from './api';
import { navigate, useRoute } from './router';
import type { Route } from './router';
import { LoginPage } from './pages/Login';
import { ErrorBox, Loading } from './components/ui';

const DashboardsPage = lazy(() =>
  import('./pages/Dashboards').then((m) => ({ default: m.DashboardsPage })),
);
const RunsPage = lazy(() => import('./pages/Runs').then((m) => ({ default: m.RunsPage })));
const GraphPage = lazy(() => import('./pages/Graph').then((m) => ({ default: m.GraphPage })));
const CatalogPage = lazy(() => import('./pages/Catalog').then((m) => ({ default: m.CatalogPage })));
const QualityPage = lazy(() => import('./pages/Quality').then((m) => ({ default: m.QualityPage })));
const SqlPage = lazy(() => import('./pages/Sql').then((m) => ({ default: m.SqlPage })));
const DlqPage = lazy(() => import('./pages/Dlq').then((m) => ({ default: m.DlqPage })));
const SyncsPage = lazy(() => import('./pages/Syncs').then((m) => ({ default: m.SyncsPage })));

const NAV: { path: string; label: string }[] = [
  { path: 'dashboards', label: 'Dashboards' },
  { path: 'runs', label: 'Runs' },
  { path: 'graph', label: 'Graph' },
  { path: 'catalog', label: 'Catalog' },
  { path: 'quality', label: 'Quality' },
  { path: 'sql', label: 'SQL' },
  { path: 'syncs', label: 'Syncs' },
  { path: 'dlq', label: 'Dead letters' },
];

const RETURN_KEY = 'tributary.return';

type Auth =
  | { state: 'checking' }
  | { state: 'out' }
  | { state: 'in'; me: Me }
  | { state: 'error'; error: ApiError };

export function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  const [menuOpen, setMenuOpen] = useState(false);

  const check = useCallback(() => {
    setAuth({ state: 'checking' });
    api<Me>('/api/me').then(
      (me) => setAuth({ state: 'in', me }),
      (e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError(String(e), 0);
        setAuth(err.status === 401 ? { state: 'out' } : { state: 'error', error: err });
      },
    );
  }, []);

  useEffect(check, [check]);

  useEffect(() => {
    const on = () => setAuth({ state: 'out' });
    window.addEventListener(UNAUTHORIZED_EVENT, on);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, on);
  }, []);

  // Signed out: remember where we were and show the login page.
  useEffect(() => {
    if (auth.state !== 'out') return;
    const here = route.path[0];
    if (here !== 'login') {
      try {
        sessionStorage.setItem(RETURN_KEY, '#' + route.raw);
      } catch {
        // storage unavailable
      }
      navigate('#/login', true);
    }
  }, [auth.state, route]);

  // Signed in on the login page, or at the root: go on.
  useEffect(() => {
    if (auth.state !== 'in') return;
    if (route.path.length === 0) navigate('#/dashboards', true);
    else if (route.path[0] === 'login') {
      let back = '#/dashboards';
      try {
        back = sessionStorage.getItem(RETURN_KEY) || back;
        sessionStorage.removeItem(RETURN_KEY);
      } catch {
        // storage unavailable
      }
      navigate(back.startsWith('#/login') ? '#/dashboards' : back, true);
    }
  }, [auth.state, route]);

  useEffect(() => setMenuOpen(false), [route.raw]);

  const logout = async () => {
    try {
      await apiFetch('/api/session', { method: 'DELETE' });
    } catch {
      // the cookie is gone or the server is; either way show the login page
    }
    setAuth({ state: 'out' });
  };

  if (auth.state === 'checking') return <Loading />;
  if (auth.state === 'error') {
    return (
      <div className="page narrow">
        <ErrorBox error={auth.error} title="Cannot reach the Tributary server" />
        <button type="button" className="btn" onClick={check}>
          Try again
        </button>
      </div>
    );
  }
  if (auth.state === 'out') {
    return <LoginPage onLogin={(me) => setAuth({ state: 'in', me })} />;
  }

  const me = auth.me;
  const canOperate = me.role === 'operator' || me.role === 'admin';
  const section = route.path[0] ?? 'dashboards';
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/dashboards">
          <span className="brand-mark" aria-hidden="true" />
          Tributary
        </a>
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          data-testid="menu-button"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span aria-hidden="true">☰</span> Menu
        </button>
        <nav id="main-nav" className={menuOpen ? 'nav open' : 'nav'} aria-label="Main">
          {NAV.map((n) => (
            <a
              key={n.path}
              href={`#/${n.path}`}
              className={section === n.path ? 'active' : undefined}
              aria-current={section === n.path ? 'page' : undefined}
              data-testid={`nav-${n.path}`}
            >
              {n.label}
            </a>
          ))}
          <div className="user">
            <span className="user-name" title={`token ${me.id}`}>
              {me.name || me.id}
            </span>
            <span className="role" data-testid="role">
              {me.role}
            </span>
            <button type="button" className="btn btn-quiet btn-small" onClick={() => void logout()}>
              Sign out
            </button>
          </div>
        </nav>
      </header>
      <main className="main">
        <Suspense fallback={<Loading />}>
          <Page route={route} section={section} canOperate={canOperate} />
        </Suspense>
      </main>
    </div>
  );
}

function Page({
  route,
  section,
  canOperate,
}: {
  route: Route;
  section: string;
  canOperate: boolean;
}) {
  switch (section) {
    case 'dashboards':
      return <DashboardsPage route={route} />;
    case 'runs':
      return <RunsPage route={route} canOperate={canOperate} />;
    case 'graph':
      return <GraphPage route={route} />;
    case 'catalog':
      return <CatalogPage route={route} />;
    case 'quality':
      return <QualityPage route={route} />;
    case 'sql':
      return <SqlPage route={route} />;
    case 'syncs':
      return <SyncsPage route={route} canOperate={canOperate} />;
    case 'dlq':
      return <DlqPage route={route} canOperate={canOperate} />;
    case 'login':
      return <Loading />;
    default:
      return (
        <div className="page">
          <h1>Not found</h1>
          <p>
            There is no page at <code>#{route.raw}</code>. <a href="#/dashboards">Dashboards</a>
          </p>
        </div>
      );
  }
}
