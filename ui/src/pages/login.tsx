import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';

/** Login with the configured user and password, or with the router's bearer token. */
export function Login({ session, onDone }: { session: Session; onDone: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const submit = (body: Record<string, string>) => (e: Event) => {
    e.preventDefault();
    api.login(body).then(onDone, (err: Error) => setError(err.message));
  };
  return (
    <div class="login card" data-testid="login">
      <h1>Peregrine</h1>
      {session.mode === 'login' && (
        <form onSubmit={submit({ user, password })}>
          <label class="field"><span>User</span><input name="user" autocomplete="username" value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} /></label>
          <label class="field"><span>Password</span><input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} /></label>
          <button type="submit" class="button primary">Log in</button>
        </form>
      )}
      <form onSubmit={submit({ token })}>
        <label class="field"><span>{session.mode === 'login' ? 'or the API token' : 'API token (authtoken)'}</span>
          <input name="token" type="password" autocomplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" class="button">Log in with token</button>
      </form>
      {error && <p class="error" data-testid="login-error">{error}</p>}
    </div>
  );
}
