// The login page (#/login): a token from `tributary token create` is exchanged for an HttpOnly
// session cookie (POST /api/session); the token itself is never stored by the browser.
import { useState } from 'react';
import type { FormEvent } from 'react';
import type { Me } from '../api';
import { ApiError, api, post } from '../api';

export function LoginPage({ onLogin }: { onLogin: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (!token.trim()) {
      setError(new ApiError('Enter a token.', 0));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await post('/api/session', { token: token.trim() });
      const me = await api<Me>('/api/me');
      setToken('');
      onLogin(me);
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(String(err), 0);
      setError(
        apiErr.status === 401
          ? new ApiError(
              'That token is not valid (or has been revoked).',
              401,
              apiErr.code,
              apiErr.hint,
            )
          : apiErr,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="login-card" onSubmit={submit}>
        <h1>
          <span className="brand-mark" aria-hidden="true" /> Tributary
        </h1>
        <p className="muted">Sign in with an API token.</p>
        <label className="field">
          <span>Token</span>
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            placeholder="trb_…"
            data-testid="login-token"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            autoFocus
          />
        </label>
        {error ? (
          <p className="login-error" role="alert" data-testid="login-error">
            {error.message}
          </p>
        ) : null}
        <button
          type="submit"
          className="btn btn-primary btn-block"
          data-testid="login-submit"
          disabled={busy}
        >
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          Create one with <code>tributary token create --role viewer</code>.
        </p>
      </form>
    </div>
  );
}
