// The decision log of an agent or of a whole tenant, newest first, a page at a time
// (the server pages it by `seq`: "before" the last one shown). Each entry: what was
// decided and why, what held it back, its risk, savings per hour and confidence, the
// engine asked and the one that answered, and what acting on it did, with a link to
// the command or replica on the agent's timeline.
import { useState } from 'preact/hooks';
import { pathOf } from './api.js';
import { Badge, ErrorNote, Loading } from './components.jsx';
import {
  actionText,
  confidencePercent,
  decisionState,
  engineText,
  heldBackText,
  reasonText,
  riskPercent,
  triggerText,
} from './decision_text.js';
import { count, pricePerHour, utc } from './format.js';
import { href } from './router.js';
import { useApi } from './use_api.js';

// The command or replica acting on the entry created, opened on the agent's timeline.
function Created({ tenant, record }) {
  const [kind, id] = record.command_id ? ['command', record.command_id] : ['replica', record.replica_id];
  if (!id) return null;
  return (
    <a href={href('t', tenant, 'agents', record.agent_id, { show: `${kind}-${id}` })} data-testid="created">
      {kind} <span class="mono">{id.slice(0, 8)}</span>
      <span class="visually-hidden"> on the timeline</span>
    </a>
  );
}

function Entry({ tenant, record, agentName }) {
  const d = record.decision;
  const state = decisionState(record);
  return (
    <tr data-seq={record.seq}>
      <td>
        <time datetime={record.decided_at}>{utc(record.decided_at, { seconds: true })}</time>
        <span class="sub">{triggerText(record.trigger)}</span>
      </td>
      {agentName ? (
        <th scope="row">
          <a href={href('t', tenant, 'agents', record.agent_id)}>{agentName(record.agent_id)}</a>
        </th>
      ) : null}
      <td class="wrap">
        <span class="decision-action" data-testid="action">
          {actionText(d.action, d.target_pool_id)}
        </span>{' '}
        {state ? <Badge value={state} /> : null}
        {d.urgent ? <Badge value="urgent" kind="open" /> : null}
        {d.guard ? (
          <span class="sub" data-testid="guard">
            {heldBackText(d)}
          </span>
        ) : null}
      </td>
      <td class="wrap">
        <span data-testid="reason">{reasonText(d.reason)}</span>
        {d.message ? (
          <span class="sub" data-testid="message">
            {d.message}
          </span>
        ) : null}
      </td>
      <td class="num" data-testid="risk">
        {riskPercent(d.risk)}
      </td>
      <td class="num">
        <span data-testid="savings">{pricePerHour(d.expected_savings_micros)}</span>
        <span class="sub" data-testid="savings-micros">
          {count(d.expected_savings_micros)} µ$/h
        </span>
      </td>
      <td class="num" data-testid="confidence">
        {confidencePercent(d.confidence)}
      </td>
      <td class="wrap">
        <span data-testid="engine">{engineText(d)}</span>
        {record.fallback ? (
          <>
            <span class="sub" data-testid="engine-asked">
              instead of {record.engine_asked}
            </span>
            <span class="sub fallback" data-testid="fallback">
              {record.fallback}
            </span>
          </>
        ) : null}
      </td>
      <td class="wrap">
        <Created tenant={tenant} record={record} />
        <span class="sub" data-testid="outcome">
          {record.outcome}
        </span>
      </td>
    </tr>
  );
}

// The agents a page names, in one request (the agents list's `ids`).
function useAgentNames(tenant, decisions) {
  const ids = [...new Set((decisions ?? []).map((r) => r.agent_id))];
  const { data } = useApi(
    ids.length
      ? { agents: [pathOf('tenants', tenant, 'agents'), { ids: ids.join(','), limit: ids.length }] }
      : {},
    ids.join(','),
  );
  const names = new Map((data?.agents?.agents ?? []).map((a) => [a.id, a.logical_agent_id]));
  return (id) => names.get(id) ?? id;
}

// path: the log's API path (an agent's or the tenant's); withAgent: show whose entry.
export function DecisionLog({ tenant, path, pageSize, withAgent = false, caption }) {
  // The `before` of each page shown so far; the last one is the page on screen.
  const [pages, setPages] = useState([0]);
  const before = pages[pages.length - 1];
  const { data, error, loading } = useApi(
    { log: [path, { limit: pageSize, before: before || undefined }] },
    `${path}/${before}`,
  );
  const decisions = data?.log.decisions;
  const names = useAgentNames(withAgent ? tenant : null, withAgent ? decisions : null);
  if (error) return <ErrorNote error={error} />;
  if (!decisions) return <Loading what="Loading the decision log" />;
  if (decisions.length === 0 && pages.length === 1) return <p class="muted">No decision logged yet.</p>;
  const last = decisions[decisions.length - 1];
  return (
    <>
      <div class="table-scroll">
        <table class="compact decisions" aria-busy={loading ? 'true' : 'false'}>
          <caption>{caption}</caption>
          <thead>
            <tr>
              <th scope="col">Decided (UTC)</th>
              {withAgent ? <th scope="col">Agent</th> : null}
              <th scope="col">Decision</th>
              <th scope="col">Why</th>
              <th scope="col" class="num">
                Risk
              </th>
              <th scope="col" class="num">
                Saves
              </th>
              <th scope="col" class="num">
                Confidence
              </th>
              <th scope="col">Engine</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {decisions.map((r) => (
              <Entry key={r.seq} tenant={tenant} record={r} agentName={withAgent ? names : null} />
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label={`Pages of ${caption.toLowerCase()}`}>
        <button type="button" disabled={pages.length === 1} onClick={() => setPages([0])}>
          Newest
        </button>
        <button type="button" disabled={pages.length === 1} onClick={() => setPages(pages.slice(0, -1))}>
          Newer
        </button>
        <span>Page {pages.length}</span>
        <button
          type="button"
          disabled={decisions.length < pageSize}
          onClick={() => setPages([...pages, last.seq])}
        >
          Older
        </button>
      </nav>
    </>
  );
}
