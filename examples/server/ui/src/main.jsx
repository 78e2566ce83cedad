// The dashboard's shell: the sign-in gate, the header with the tenant picker and the
// page links, and the page the URL's fragment names. Moving to another page puts
// the keyboard focus on its title, so screen readers announce it.
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { onSignedOut, operatorToken, pathOf } from './api.js';
import { AgentPage } from './agent.jsx';
import { ErrorNote, Loading } from './components.jsx';
import { DecisionsPage } from './decisions_page.jsx';
import { Fleet } from './fleet.jsx';
import { Login } from './login.jsx';
import { Prices } from './prices.jsx';
import { href, parseHash, useRoute } from './router.js';
import { Savings } from './savings.jsx';
import { Tenants } from './tenants.jsx';
import { useApi } from './use_api.js';

const TENANT_PAGES = [
  ['fleet', 'Fleet'],
  ['prices', 'Prices'],
  ['savings', 'Savings'],
  ['decisions', 'Decisions'],
];

// Focuses a page's title when the route changes (not on the first load).
function useTitleFocus(routeKey) {
  const focused = useRef(routeKey);
  return useCallback(
    (element) => {
      if (element && focused.current !== routeKey) {
        focused.current = routeKey;
        element.focus();
      }
    },
    [routeKey],
  );
}

function Header({ tenants, tenant, page, onSignOut }) {
  const active = tenants.filter((t) => t.state !== 'deleted');
  return (
    <header class="top">
      <a class="brand" href={href('tenants')}>
        spotopt
      </a>
      <nav aria-label="Pages">
        <ul>
          {tenant
            ? TENANT_PAGES.map(([key, label]) => (
                <li key={key}>
                  <a href={href('t', tenant, key)} aria-current={page === key ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))
            : null}
          <li>
            <a href={href('tenants')} aria-current={page === 'tenants' ? 'page' : undefined}>
              Tenants
            </a>
          </li>
        </ul>
      </nav>
      <div class="field inline">
        <label for="tenant-picker">Tenant</label>
        <select
          id="tenant-picker"
          value={tenant ?? ''}
          onChange={(e) => {
            location.hash = href(
              't',
              e.currentTarget.value,
              page === 'tenants' || page === 'agents' ? 'fleet' : page,
            );
          }}
        >
          {tenant ? null : <option value="">Choose…</option>}
          {active.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
              {t.state === 'suspended' ? ' (suspended)' : ''}
            </option>
          ))}
        </select>
      </div>
      <button type="button" class="quiet" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}

function Page({ route, tenants, focusTitle, reloadTenants }) {
  const [scope, tenant, page, id] = route.parts;
  if (scope === 't' && tenant) {
    const name = tenants.find((t) => t.id === tenant)?.name ?? tenant;
    if (page === 'agents' && id)
      return <AgentPage key={id} tenant={tenant} agentId={id} query={route.query} focusTitle={focusTitle} />;
    if (page === 'prices')
      return <Prices key={tenant} tenant={tenant} query={route.query} focusTitle={focusTitle} />;
    if (page === 'decisions')
      return <DecisionsPage key={tenant} tenant={tenant} name={name} focusTitle={focusTitle} />;
    if (page === 'savings') {
      return (
        <>
          <h1 tabIndex={-1} ref={focusTitle}>
            Savings of {name}
          </h1>
          <Savings key={tenant} path={pathOf('tenants', tenant)} level={2} />
        </>
      );
    }
    return (
      <>
        <h1 tabIndex={-1} ref={focusTitle}>
          Fleet of {name}
        </h1>
        <Fleet key={tenant} tenant={tenant} query={route.query} />
      </>
    );
  }
  return <Tenants focusTitle={focusTitle} onTenantsChanged={reloadTenants} />;
}

function Dashboard({ onSignOut }) {
  const route = useRoute();
  const { data, error, reload } = useApi({ list: ['tenants'] }, 'tenants');
  const [scope, tenant, page] = route.parts;
  const routeKey = route.parts.join('/');
  const focusTitle = useTitleFocus(routeKey);
  const tenants = data?.list.tenants ?? [];
  // The tenant pages stay one click away from the tenants page.
  const [lastTenant, setLastTenant] = useState(null);
  useEffect(() => {
    if (scope === 't' && tenant) setLastTenant(tenant);
  }, [scope, tenant]);

  // With no page named, open the first tenant's fleet. The URL is read again: a page
  // named since the last render (a link followed while the tenants loaded) stays.
  useEffect(() => {
    if (data && parseHash(location.hash).parts.length === 0) {
      const first = tenants.find((t) => t.state === 'active');
      location.replace(first ? href('t', first.id, 'fleet') : href('tenants'));
    }
  }, [routeKey, data]);

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main').focus();
        }}
      >
        Skip to the page
      </a>
      <Header
        tenants={tenants}
        tenant={scope === 't' ? tenant : lastTenant}
        page={scope === 't' ? (page ?? 'fleet') : 'tenants'}
        onSignOut={onSignOut}
      />
      <main id="main" tabIndex={-1}>
        {error ? <ErrorNote error={error} /> : null}
        {!data ? (
          <Loading />
        ) : (
          <Page route={route} tenants={tenants} focusTitle={focusTitle} reloadTenants={reload} />
        )}
      </main>
    </>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(() => Boolean(operatorToken.get()));
  const [notice, setNotice] = useState('');
  useEffect(() => {
    onSignedOut(() => {
      setNotice('The server did not accept the token: sign in again.');
      setSignedIn(false);
    });
  }, []);
  if (!signedIn) return <Login notice={notice} onSignedIn={() => setSignedIn(true)} />;
  return (
    <Dashboard
      onSignOut={() => {
        operatorToken.clear();
        setNotice('Signed out.');
        setSignedIn(false);
      }}
    />
  );
}

render(<App />, document.getElementById('app'));
