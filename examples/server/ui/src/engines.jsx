// A tenant's decision engines: the active one and the one a rollback restores, each
// pinned by its sha256, the engines this server runs, and activating one or rolling
// back, each confirmed first. An engine the tenant pins but this server does not run
// (or runs with another sha256) is said so: its decisions fall back.
import { useRef, useState } from 'preact/hooks';
import { api, pathOf } from './api.js';
import { Badge, ErrorNote, Loading } from './components.jsx';
import { ConfirmBox } from './confirm.jsx';
import { useApi } from './use_api.js';

const named = (e) => `${e.name} ${e.version}`;
const sameEngine = (a, b) => Boolean(a && b) && a.name === b.name && a.version === b.version;

// What the server knows of a pinned engine: registered as pinned, with another
// sha256, or not at all.
function registration(ref, server) {
  const found = server.find((e) => sameEngine(e, ref));
  if (!found) return { state: 'missing', text: 'not registered in this server: its decisions fall back' };
  if (found.sha256 !== ref.sha256)
    return { state: 'mismatch', text: 'registered here with another sha256: its decisions fall back' };
  return { state: 'registered', text: found.description, kind: found.kind };
}

function EngineCard({ title, engine, server, testid, children }) {
  if (!engine) {
    return (
      <div class="engine-card">
        <h3>{title}</h3>
        <p class="muted">None yet: a rollback needs an earlier activation.</p>
      </div>
    );
  }
  const known = registration(engine, server);
  return (
    <div class={`engine-card engine-${known.state}`} data-testid={testid}>
      <h3>{title}</h3>
      <p class="engine-name">
        {named(engine)}{' '}
        {known.state === 'registered' ? (
          <Badge value={known.kind} />
        ) : (
          <Badge value="falls back" kind="failed" />
        )}
      </p>
      <p class="muted">{known.text}</p>
      <p class="sha">
        <span class="muted">sha256 </span>
        <code>{engine.sha256}</code>
      </p>
      {children}
    </div>
  );
}

export function Engines({ tenant, tenantName }) {
  const { data, error, reload } = useApi(
    { server: ['engines'], tenant: [pathOf('tenants', tenant, 'engine')] },
    `engines/${tenant}`,
  );
  // {what: 'activate', engine} or {what: 'rollback'}, and the button to return to.
  const [asking, setAsking] = useState(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState('');
  const [actionError, setActionError] = useState(null);
  const outcomeNote = useRef(null);

  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="Loading the engines" />;
  const server = data.server.engines;
  const { active, previous } = data.tenant;

  const ask = (e, request) => {
    setOutcome('');
    setActionError(null);
    setAsking({ ...request, returnTo: e.currentTarget });
  };
  const cancel = () => {
    asking?.returnTo?.focus();
    setAsking(null);
  };
  const change = async () => {
    setBusy(true);
    setActionError(null);
    try {
      const path = pathOf('tenants', tenant, 'engine', asking.what);
      const now =
        asking.what === 'activate'
          ? await api(path, {
              method: 'POST',
              body: { name: asking.engine.name, version: asking.engine.version },
            })
          : await api(path, { method: 'POST' });
      setOutcome(
        `${asking.what === 'activate' ? 'Activated' : 'Rolled back to'} ${named(now.active)}` +
          `${now.previous ? `; ${named(now.previous)} is the previous engine` : ''}. ` +
          'The next fleet run decides with it.',
      );
      setAsking(null);
      reload();
      requestAnimationFrame(() => outcomeNote.current?.focus());
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <div class="grid-2">
        <EngineCard title="Active engine" engine={active} server={server} testid="engine-active" />
        <EngineCard title="Previous engine" engine={previous} server={server} testid="engine-previous">
          <button
            type="button"
            disabled={busy}
            aria-describedby="rollback-help"
            onClick={(e) => ask(e, { what: 'rollback' })}
          >
            Roll back to {previous ? named(previous) : null}
          </button>
          <p id="rollback-help" class="help">
            Swaps the two: the active engine becomes the previous one.
          </p>
        </EngineCard>
      </div>
      <div class="table-scroll">
        <table class="compact engines">
          <caption>Engines this server runs</caption>
          <thead>
            <tr>
              <th scope="col">Engine</th>
              <th scope="col">Kind</th>
              <th scope="col">What it does</th>
              <th scope="col">sha256</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {server.map((e) => (
              <tr key={named(e)}>
                <th scope="row">{named(e)}</th>
                <td>{e.kind}</td>
                <td class="wrap">{e.description}</td>
                <td>
                  <code class="sha" title={e.sha256}>
                    {e.sha256}
                  </code>
                </td>
                <td>
                  {sameEngine(e, active) && e.sha256 === active.sha256 ? (
                    <Badge value="active" />
                  ) : (
                    <button
                      type="button"
                      disabled={busy}
                      onClick={(ev) => ask(ev, { what: 'activate', engine: e })}
                    >
                      Activate<span class="visually-hidden"> {named(e)}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {asking ? (
        <ConfirmBox
          id="engine-confirm"
          title={
            asking.what === 'activate'
              ? `Activate ${named(asking.engine)} for ${tenantName}?`
              : `Roll ${tenantName} back to ${named(previous)}?`
          }
          confirmLabel={asking.what === 'activate' ? `Activate ${named(asking.engine)}` : 'Roll back'}
          busy={busy}
          onConfirm={change}
          onCancel={cancel}
        >
          <p>
            {asking.what === 'activate'
              ? `Every agent of ${tenantName} with automatic switches on is decided by it from the next fleet run; ${named(active)} becomes the previous engine, for a rollback.`
              : `${named(previous)} decides again from the next fleet run; ${named(active)} becomes the previous engine.`}
          </p>
        </ConfirmBox>
      ) : null}
      <div aria-live="polite">
        {outcome ? (
          <p class="ok" tabIndex={-1} ref={outcomeNote} data-testid="engine-outcome">
            {outcome}
          </p>
        ) : null}
        {actionError ? <ErrorNote error={actionError} /> : null}
      </div>
    </>
  );
}
