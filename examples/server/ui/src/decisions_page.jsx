// A tenant's decisions: which engine decides for it (and the one a rollback
// restores), activating another, and the tenant's decision log across its agents.
import { pathOf } from './api.js';
import { DecisionLog } from './decision_log.jsx';
import { Engines } from './engines.jsx';

export function DecisionsPage({ tenant, name, focusTitle }) {
  return (
    <>
      <h1 tabIndex={-1} ref={focusTitle}>
        Decisions of {name}
      </h1>
      <section class="panel" aria-labelledby="engines-heading">
        <h2 id="engines-heading">Engines</h2>
        <Engines tenant={tenant} tenantName={name} />
      </section>
      <section class="panel" aria-labelledby="tenant-log-heading">
        <h2 id="tenant-log-heading">Decision log</h2>
        <DecisionLog
          tenant={tenant}
          path={pathOf('tenants', tenant, 'decisions')}
          pageSize={25}
          withAgent
          caption="Every agent's decisions, newest first"
        />
      </section>
    </>
  );
}
