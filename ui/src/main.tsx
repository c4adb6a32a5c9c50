import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from './api.ts';
import { readFilters, urlQuery, type Filters } from './filters.ts';
import { navigate, onLinkClick, useLocation } from './router.ts';
import { AlertDetail } from './pages/alert.tsx';
import { Dashboard } from './pages/dashboard.tsx';
import { Events } from './pages/events.tsx';
import { Login } from './pages/login.tsx';
import { Rules } from './pages/rules.tsx';
import './style.css';
import 'uplot/dist/uPlot.min.css';

type Theme = 'auto' | 'light' | 'dark';

function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('peregrine-theme') as Theme | null) ?? 'auto');
  useEffect(() => {
    localStorage.setItem('peregrine-theme', theme);
    const dark = theme === 'dark' || (theme === 'auto' && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }, [theme]);
  return [theme, setTheme];
}

function App() {
  const [session, setSession] = useState<Session>();
  const [failed, setFailed] = useState('');
  const [theme, setTheme] = useTheme();
  const { path, search } = useLocation();
  const load = () => api.session().then(setSession, (e: Error) => setFailed(e.message));
  useEffect(() => {
    load();
    const out = () => load();
    window.addEventListener('peregrine:logged-out', out);
    return () => window.removeEventListener('peregrine:logged-out', out);
  }, []);
  if (failed) return <p class="error page">{failed}</p>;
  if (!session) return null;
  if (!session.authenticated) return <Login session={session} onDone={load} />;
  const filters = readFilters(search);
  const setFilters = (f: Filters) => navigate(`${path}${urlQuery(f)}`);
  const detail = /^\/ui\/alert\/(\d+)$/.exec(path);
  const page = detail ? 'alert' : path.startsWith('/ui/events') ? 'events' : path.startsWith('/ui/rules') ? 'rules' : 'dashboard';
  const keep = urlQuery({ ...filters });
  return (
    <div onClick={(e) => onLinkClick(e as unknown as MouseEvent)}>
      <header class="top">
        <a class="brand" href="/ui/">Peregrine</a>
        <nav>
          <a href={`/ui/${keep}`} class={page === 'dashboard' ? 'on' : ''} data-testid="nav-dashboard">Dashboard</a>
          <a href={`/ui/events${keep}`} class={page === 'events' ? 'on' : ''} data-testid="nav-events">Events</a>
          <a href={`/ui/rules${keep}`} class={page === 'rules' ? 'on' : ''} data-testid="nav-rules">Rules</a>
        </nav>
        <span class="grow" />
        <select aria-label="theme" data-testid="theme" value={theme} onChange={(e) => setTheme((e.target as HTMLSelectElement).value as Theme)}>
          <option value="auto">auto</option><option value="light">light</option><option value="dark">dark</option>
        </select>
        {session.mode !== 'none' && <button type="button" class="link" onClick={() => api.logout().then(load)}>Log out</button>}
      </header>
      {session.loopbackOnly && (
        <p class="note" data-testid="loopback-note">No login is configured: this UI answers only on this machine (loopback).
          Set <code>ui.user</code> and <code>ui.passwordhash</code> (or <code>authtoken</code>) to open it to the network.</p>
      )}
      <main>
        {page === 'alert' && <AlertDetail id={detail![1]!} />}
        {page === 'events' && <Events filters={filters} setFilters={setFilters} />}
        {page === 'rules' && <Rules filters={filters} setFilters={setFilters} />}
        {page === 'dashboard' && <Dashboard filters={filters} setFilters={setFilters} />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
