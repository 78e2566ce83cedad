// Asks for the operator token once per browser tab. It is checked against the
// server (a tenants read) before the dashboard opens, and kept in sessionStorage.
import { useState } from 'preact/hooks';
import { api, operatorToken } from './api.js';
import { ErrorNote } from './components.jsx';

export function Login({ onSignedIn, notice }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    operatorToken.set(token.trim());
    try {
      await api('tenants');
      setToken('');
      onSignedIn();
    } catch (err) {
      operatorToken.clear();
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="login">
      <h1>spotopt dashboard</h1>
      <form onSubmit={submit} aria-labelledby="login-heading">
        <h2 id="login-heading">Sign in</h2>
        {notice ? <p class="muted">{notice}</p> : null}
        <div class="field">
          <label for="operator-token">Operator token</label>
          <input
            id="operator-token"
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            aria-describedby="operator-token-help"
          />
          <p id="operator-token-help" class="help">
            From <code>spotopt-server operator-token</code>. Kept in this tab only, until it closes.
          </p>
        </div>
        {error ? <ErrorNote error={error} /> : null}
        <button type="submit" class="primary" disabled={busy || !token.trim()}>
          Sign in
        </button>
      </form>
    </main>
  );
}
