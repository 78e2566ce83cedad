// Forcing a switch from the agent page: a manual command (priority 75) the agent
// picks up on its next poll, and the commands still waiting for it, each of which
// can be cancelled.
import { useState } from 'preact/hooks';
import { api, pathOf } from './api.js';
import { Badge, ErrorNote } from './components.jsx';
import { utc } from './format.js';

const OPEN_STATES = new Set(['pending', 'leased']);

export function SwitchForm({ tenant, agent, pools, commands, onChange }) {
  const [mode, setMode] = useState('spot');
  const here = agent.placement.pool_id;
  const [picked, setPool] = useState('');
  // The market's pools arrive after the form: until one is picked, another pool
  // than the current one.
  const pool = pools.includes(picked) ? picked : (pools.find((p) => p !== here) ?? '');
  const [reason, setReason] = useState('');
  const [override, setOverride] = useState(false);
  const [outcome, setOutcome] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const base = pathOf('tenants', tenant, 'agents', agent.id);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setOutcome(null);
    try {
      const body = { target_mode: mode, override_limits: override };
      if (mode === 'spot') body.target_pool_id = pool;
      if (reason.trim()) body.reason = reason.trim();
      const command = await api(`${base}/switch`, { method: 'POST', body });
      setOutcome(
        `Switch queued as command ${command.id}: ${command.state}. The agent receives it on its next poll.`,
      );
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async (command) => {
    setError(null);
    try {
      await api(`${base}/commands/${encodeURIComponent(command.id)}/cancel`, {
        method: 'POST',
        body: { reason: 'cancelled from the dashboard' },
      });
      setOutcome(`Command ${command.id} cancelled.`);
      onChange();
    } catch (err) {
      setError(err);
    }
  };

  const open = commands.filter((c) => OPEN_STATES.has(c.state));
  return (
    <>
      <form class="switch-form" onSubmit={submit} aria-labelledby="switch-heading">
        <div class="field">
          <label for="switch-mode">Target mode</label>
          <select id="switch-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
            <option value="spot">Spot</option>
            <option value="ondemand">On-demand</option>
          </select>
        </div>
        {mode === 'spot' ? (
          <div class="field">
            <label for="switch-pool">Target pool</label>
            <select id="switch-pool" value={pool} onChange={(e) => setPool(e.currentTarget.value)} required>
              {pools.map((p) => (
                <option key={p} value={p}>
                  {p}
                  {p === here ? ' (current)' : ''}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div class="field grow">
          <label for="switch-reason">Reason</label>
          <input
            id="switch-reason"
            type="text"
            maxLength={200}
            placeholder="operator request"
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </div>
        <label class="check">
          <input type="checkbox" checked={override} onChange={(e) => setOverride(e.currentTarget.checked)} />
          Override the agent's switch limits
        </label>
        <button type="submit" class="primary" disabled={busy || (mode === 'spot' && !pool)}>
          Force switch
        </button>
      </form>
      <div aria-live="polite">
        {outcome ? (
          <p class="ok" data-testid="switch-outcome">
            {outcome}
          </p>
        ) : null}
        {error ? <ErrorNote error={error} /> : null}
      </div>
      {open.length ? (
        <table class="compact">
          <caption>Commands waiting for the agent</caption>
          <thead>
            <tr>
              <th scope="col">Queued</th>
              <th scope="col">Command</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {open.map((c) => (
              <tr key={c.id}>
                <td>{utc(c.created_at, { seconds: true })}</td>
                <td>
                  {c.command_type} to {c.target_mode === 'ondemand' ? 'on-demand' : c.target_pool_id}
                </td>
                <td>
                  <Badge value={c.state} />
                </td>
                <td>
                  {c.state === 'pending' ? (
                    <button type="button" onClick={() => cancel(c)}>
                      Cancel<span class="visually-hidden"> command {c.id}</span>
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
