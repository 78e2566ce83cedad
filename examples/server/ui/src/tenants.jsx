// Tenants: create one, suspend or reactivate it, rotate its agent token. A new
// token is shown once, here, and kept nowhere: the server stores only its hash.
import { useState } from 'preact/hooks';
import { api, pathOf } from './api.js';
import { Badge, ErrorNote, Loading } from './components.jsx';
import { utc } from './format.js';
import { href } from './router.js';
import { useApi } from './use_api.js';

function NewToken({ shown, onDone }) {
  const [copied, setCopied] = useState('');
  const copy = () =>
    navigator.clipboard.writeText(shown.token).then(
      () => setCopied('Copied'),
      () => setCopied('Copying is blocked here: select the token and copy it'),
    );
  return (
    <section class="panel token" role="alert" aria-labelledby="token-heading">
      <h2 id="token-heading">Agent token for {shown.name}</h2>
      <p>
        Shown once: give it to the tenant's agents now. The server keeps only its hash.
        {shown.rotated ? ' The previous token keeps working for the grace period.' : ''}
      </p>
      <p class="token-value">
        <code data-testid="new-token">{shown.token}</code>
      </p>
      <div class="actions">
        <button type="button" onClick={copy}>
          Copy the token
        </button>
        <button type="button" class="primary" onClick={onDone}>
          I have saved it
        </button>
      </div>
      <p class="muted" aria-live="polite">
        {copied}
      </p>
    </section>
  );
}

export function Tenants({ focusTitle, onTenantsChanged }) {
  const { data, error, reload } = useApi({ list: ['tenants'] }, 'tenants');
  const [name, setName] = useState('');
  const [shown, setShown] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [busy, setBusy] = useState(false);

  const act = async (work) => {
    setBusy(true);
    setActionError(null);
    try {
      await work();
      reload();
      onTenantsChanged();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const create = (e) => {
    e.preventDefault();
    act(async () => {
      const created = await api('tenants', { method: 'POST', body: { name: name.trim() } });
      setShown({ name: created.tenant.name, token: created.token, rotated: false });
      setName('');
    });
  };
  const transition = (tenant, to) => act(() => api(pathOf('tenants', tenant.id, to), { method: 'POST' }));
  const rotate = (tenant) =>
    act(async () => {
      const rotated = await api(pathOf('tenants', tenant.id, 'rotate-token'), { method: 'POST' });
      setShown({ name: tenant.name, token: rotated.token, rotated: true });
    });

  return (
    <>
      <h1 tabIndex={-1} ref={focusTitle}>
        Tenants
      </h1>
      {shown ? <NewToken shown={shown} onDone={() => setShown(null)} /> : null}
      <form class="filters" onSubmit={create} aria-label="Create a tenant">
        <div class="field grow">
          <label for="tenant-name">New tenant's name</label>
          <input
            id="tenant-name"
            type="text"
            required
            maxLength={128}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="primary" disabled={busy || !name.trim()}>
          Create tenant
        </button>
      </form>
      {actionError ? <ErrorNote error={actionError} /> : null}
      {error ? <ErrorNote error={error} /> : null}
      {!data ? (
        <Loading what="Loading the tenants" />
      ) : (
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">Tenants</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Id</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.list.tenants.map((t) => (
                <tr key={t.id}>
                  <th scope="row">
                    {t.state === 'deleted' ? t.name : <a href={href('t', t.id, 'fleet')}>{t.name}</a>}
                  </th>
                  <td>
                    <Badge value={t.state} />
                  </td>
                  <td>{utc(t.created_at)}</td>
                  <td class="mono">{t.id}</td>
                  <td>
                    <div class="actions">
                      {t.state === 'active' ? (
                        <button type="button" disabled={busy} onClick={() => transition(t, 'suspend')}>
                          Suspend<span class="visually-hidden"> {t.name}</span>
                        </button>
                      ) : null}
                      {t.state === 'suspended' ? (
                        <button type="button" disabled={busy} onClick={() => transition(t, 'reactivate')}>
                          Reactivate<span class="visually-hidden"> {t.name}</span>
                        </button>
                      ) : null}
                      {t.state !== 'deleted' ? (
                        <button type="button" disabled={busy} onClick={() => rotate(t)}>
                          Rotate token<span class="visually-hidden"> of {t.name}</span>
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
