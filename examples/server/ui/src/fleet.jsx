// The fleet of one tenant: how many agents are online, stale and offline, on spot
// and on-demand, and a page of agents at a time, filtered, searched and sorted by
// the server, so 10,000 agents load as fast as ten. Each agent's latest decision
// comes from one read of the tenant's decision log, not a request per agent.
import { useEffect, useState } from 'preact/hooks';
import { pathOf } from './api.js';
import { Badge, ErrorNote, Loading } from './components.jsx';
import { actionText, decisionState, guardText, reasonText } from './decision_text.js';
import { count, duration, parseTime, utc } from './format.js';
import { href, replaceHash } from './router.js';
import { useApi } from './use_api.js';

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 250;
// The tenant log is newest first, so the first entry of an agent among its newest
// ones is the agent's latest; an agent with none there has an older one, or none.
const LATEST_DECISIONS = 1000;

// The server's sort keys for each column, ascending and descending. Time in
// placement ascends from the latest placement, so its key runs the other way.
const COLUMNS = [
  { label: 'Agent', asc: 'name', desc: '-name' },
  { label: 'Liveness', asc: 'liveness', desc: '-liveness' },
  { label: 'Mode', asc: 'mode', desc: '-mode' },
  { label: 'Pool', asc: 'pool', desc: '-pool' },
  { label: 'Instance' },
  { label: 'In placement', asc: '-since', desc: 'since' },
  { label: 'Live replica' },
  { label: 'Latest decision' },
];

function Summary({ summary }) {
  const items = [
    ['Active agents', summary.active, 'active'],
    ['Online', summary.liveness.online, 'online'],
    ['Stale', summary.liveness.stale, 'stale'],
    ['Offline', summary.liveness.offline, 'offline'],
    ['On spot', summary.mode.spot, 'spot'],
    ['On-demand', summary.mode.ondemand, 'ondemand'],
    ['Spot pools', Object.keys(summary.pools).length, 'pools'],
  ];
  return (
    <dl class="summary">
      {items.map(([label, n, key]) => (
        <div key={key} class={`stat stat-${key}`}>
          <dt>{label}</dt>
          <dd data-testid={`summary-${key}`}>{count(n)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Select({ id, label, value, onChange, options }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

function SortHeader({ column, sort, onSort }) {
  if (!column.asc) return <th scope="col">{column.label}</th>;
  const active = sort === column.asc || sort === column.desc;
  const descending = sort === column.desc;
  const next = sort === column.asc ? column.desc : column.asc;
  return (
    <th scope="col" aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="sort" onClick={() => onSort(next)}>
        {column.label}
        <span aria-hidden="true">{active ? (descending ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );
}

// Agent id -> its newest entry in `decisions` (newest first).
function latestByAgent(decisions) {
  const latest = new Map();
  for (const r of decisions) if (!latest.has(r.agent_id)) latest.set(r.agent_id, r);
  return latest;
}

function LatestDecision({ record, now, loaded, complete, autoSwitch }) {
  // Until the log is read, "none" would be a guess.
  if (!loaded) return null;
  if (!record && !autoSwitch) return <span class="muted">automatic switches off</span>;
  if (!record) {
    return (
      <span
        class="muted"
        title={complete ? 'none logged' : `none among the tenant's newest ${LATEST_DECISIONS}`}
      >
        —
      </span>
    );
  }
  const d = record.decision;
  const state = decisionState(record);
  return (
    <span title={`${reasonText(d.reason)}; ${utc(record.decided_at)}`}>
      {actionText(d.action, d.target_pool_id)} {state ? <Badge value={state} /> : null}
      <span class="sub">
        {d.guard ? `${guardText(d.guard)}, ` : ''}
        {duration(now - parseTime(record.decided_at))} ago
      </span>
    </span>
  );
}

function AgentRow({ tenant, agent, now, decision, loaded, complete }) {
  const p = agent.placement;
  const replica = agent.live_replica;
  return (
    <tr>
      <th scope="row">
        <a href={href('t', tenant, 'agents', agent.id)}>{agent.logical_agent_id}</a>
      </th>
      <td>
        <Badge value={agent.liveness} />
      </td>
      <td>{p.mode === 'ondemand' ? 'on-demand' : p.mode}</td>
      <td>{p.pool_id ?? '—'}</td>
      <td class="mono">{p.instance_id}</td>
      <td title={`since ${utc(agent.placement_since)}`}>
        {duration(now - parseTime(agent.placement_since))}
      </td>
      <td>
        {replica ? (
          <>
            <Badge value={replica.state} /> {replica.pool_id}
          </>
        ) : (
          '—'
        )}
      </td>
      <td class="wrap" data-testid="latest-decision">
        <LatestDecision
          record={decision}
          now={now}
          loaded={loaded}
          complete={complete}
          autoSwitch={agent.config.auto_switch_enabled}
        />
      </td>
    </tr>
  );
}

function Pager({ page, pages, onPage }) {
  const buttons = [
    ['First page', 0, page === 0],
    ['Previous page', page - 1, page === 0],
    ['Next page', page + 1, page >= pages - 1],
    ['Last page', pages - 1, page >= pages - 1],
  ];
  const button = ([label, target, disabled]) => (
    <button key={label} type="button" disabled={disabled} onClick={() => onPage(target)}>
      {label}
    </button>
  );
  return (
    <nav class="pager" aria-label="Pages of agents">
      {buttons.slice(0, 2).map(button)}
      <span>
        Page {count(page + 1)} of {count(pages)}
      </span>
      {buttons.slice(2).map(button)}
    </nav>
  );
}

export function Fleet({ tenant, query }) {
  const [filters, setFilters] = useState({
    liveness: query.liveness ?? '',
    mode: query.mode ?? '',
    pool: query.pool ?? '',
    q: query.q ?? '',
    sort: query.sort ?? 'name',
    page: Number(query.page ?? 0),
  });
  const [search, setSearch] = useState(filters.q);
  const set = (change) => setFilters((f) => ({ ...f, page: 0, ...change }));

  // The search box asks the server once typing pauses, not on every key.
  useEffect(() => {
    const timer = setTimeout(() => search !== filters.q && set({ q: search }), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search]);
  useEffect(
    () => replaceHash(href('t', tenant, 'fleet', { ...filters, page: filters.page || '' })),
    [filters],
  );

  const { liveness, mode, pool, q, sort, page } = filters;
  const { data, error, loading } = useApi(
    {
      fleet: [
        pathOf('tenants', tenant, 'agents'),
        { lifecycle: 'active', liveness, mode, pool, q, sort, offset: page * PAGE_SIZE, limit: PAGE_SIZE },
      ],
    },
    JSON.stringify([tenant, filters]),
  );
  const log = useApi(
    { log: [pathOf('tenants', tenant, 'decisions'), { limit: LATEST_DECISIONS }] },
    `decisions/${tenant}`,
  );
  const decisions = log.data?.log.decisions ?? [];
  const latest = latestByAgent(decisions);
  const fleet = data?.fleet;
  const now = Date.now();
  const pools = fleet ? Object.entries(fleet.summary.pools) : [];
  const first = page * PAGE_SIZE;

  return (
    <>
      {fleet ? <Summary summary={fleet.summary} /> : null}
      <form class="filters" role="search" aria-label="Filter agents" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="fleet-search">Search agents</label>
          <input
            id="fleet-search"
            type="search"
            placeholder="name, agent id, instance or pool"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </div>
        <Select
          id="fleet-liveness"
          label="Liveness"
          value={liveness}
          onChange={(v) => set({ liveness: v })}
          options={[
            ['', 'Any'],
            ['online', 'Online'],
            ['stale', 'Stale'],
            ['offline', 'Offline'],
          ]}
        />
        <Select
          id="fleet-mode"
          label="Mode"
          value={mode}
          onChange={(v) => set({ mode: v })}
          options={[
            ['', 'Any'],
            ['spot', 'Spot'],
            ['ondemand', 'On-demand'],
          ]}
        />
        <Select
          id="fleet-pool"
          label="Pool"
          value={pool}
          onChange={(v) => set({ pool: v })}
          options={[['', 'Any'], ...pools.map(([id, n]) => [id, `${id} (${count(n)})`])]}
        />
      </form>
      {error ? <ErrorNote error={error} /> : null}
      {log.error ? <ErrorNote error={log.error} /> : null}
      {!fleet ? (
        <Loading what="Loading the fleet" />
      ) : (
        <>
          <p class="muted" role="status" aria-live="polite" data-testid="fleet-status">
            {fleet.total === 0
              ? 'No agent matches.'
              : `Agents ${count(first + 1)}–${count(first + fleet.agents.length)} of ${count(fleet.total)}`}
            {loading ? ' (updating…)' : ''}
          </p>
          <div class="table-scroll">
            <table class="fleet" aria-busy={loading || log.loading ? 'true' : 'false'}>
              <caption class="visually-hidden">Agents of the tenant</caption>
              <thead>
                <tr>
                  {COLUMNS.map((c) => (
                    <SortHeader key={c.label} column={c} sort={sort} onSort={(s) => set({ sort: s })} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {fleet.agents.map((a) => (
                  <AgentRow
                    key={a.id}
                    tenant={tenant}
                    agent={a}
                    now={now}
                    decision={latest.get(a.id)}
                    loaded={Boolean(log.data)}
                    complete={decisions.length < LATEST_DECISIONS}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            page={page}
            pages={Math.max(1, Math.ceil(fleet.total / PAGE_SIZE))}
            onPage={(p) => setFilters((f) => ({ ...f, page: p }))}
          />
        </>
      )}
    </>
  );
}
