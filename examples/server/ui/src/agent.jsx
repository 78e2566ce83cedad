// One agent: where it runs and since when, its live replica and config, forcing a
// switch, what its engine would decide now and the decisions logged for it, its
// timeline, its savings and the cost intervals behind them.
import { pathOf } from './api.js';
import { Badge, ErrorNote, Loading } from './components.jsx';
import { CostIntervals } from './cost_intervals.jsx';
import { DecisionLog } from './decision_log.jsx';
import { DecisionPreview } from './decision_preview.jsx';
import { duration, parseTime, utc } from './format.js';
import { href } from './router.js';
import { Savings } from './savings.jsx';
import { SwitchForm } from './switch_form.jsx';
import { Timeline, placeOf, timelineOf } from './timeline.jsx';
import { useApi } from './use_api.js';

function Facts({ agent }) {
  const p = agent.placement;
  const replica = agent.live_replica;
  const c = agent.config;
  const facts = [
    ['Liveness', <Badge value={agent.liveness} />],
    ['Runs on', placeOf(p)],
    ['Region', p.region || '—'],
    ['Instance', <span class="mono">{p.instance_id}</span>],
    [
      'In placement',
      `${duration(Date.now() - parseTime(agent.placement_since))} (since ${utc(agent.placement_since)})`,
    ],
    [
      'Live replica',
      replica ? (
        <>
          <Badge value={replica.state} /> {replica.pool_id}
          {replica.instance_id ? <span class="mono"> {replica.instance_id}</span> : null}
        </>
      ) : (
        'none'
      ),
    ],
    ['Automatic switches', c.auto_switch_enabled ? 'on' : 'off'],
    ['Replica mode', c.replica_mode.replace('_', ' ')],
    ['Admin state', agent.enabled ? 'enabled' : 'disabled'],
  ];
  return (
    <dl class="facts">
      {facts.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

// The decisions the timeline interleaves: the newest, as the log's first page.
const TIMELINE_DECISIONS = 100;

// query.show: a timeline item to bring into view (the decision log links there).
export function AgentPage({ tenant, agentId, query, focusTitle }) {
  const base = pathOf('tenants', tenant, 'agents', agentId);
  const records = useApi(
    {
      agent: [base],
      commands: [`${base}/commands`],
      switches: [`${base}/switches`],
      incidents: [`${base}/incidents`],
      replicas: [`${base}/replicas`],
      events: [`${base}/events`],
      intervals: [`${base}/cost-intervals`],
      decisions: [`${base}/decisions`, { limit: TIMELINE_DECISIONS }],
    },
    base,
  );
  const agent = records.data?.agent;
  const market = useApi(
    agent?.placement.instance_type
      ? {
          market: [
            pathOf('tenants', tenant, 'market'),
            { region: agent.placement.region, instance_type: agent.placement.instance_type },
          ],
        }
      : {},
    agent ? `${agent.placement.region}/${agent.placement.instance_type}` : '',
  );

  if (records.error) return <ErrorNote error={records.error} />;
  if (!records.data) return <Loading what="Loading the agent" />;
  const { commands, switches, incidents, replicas, events, intervals, decisions } = records.data;
  const pools = market.data?.market?.pools.map((p) => p.pool_id) ?? [];
  return (
    <>
      <p class="crumbs">
        <a href={href('t', tenant, 'fleet')}>Fleet</a> / agent
      </p>
      <h1 tabIndex={-1} ref={focusTitle}>
        {agent.logical_agent_id}
      </h1>
      <p class="muted mono">{agent.id}</p>
      <Facts agent={agent} />

      <section class="panel" aria-labelledby="switch-heading">
        <h2 id="switch-heading">Force a switch</h2>
        <SwitchForm
          tenant={tenant}
          agent={agent}
          pools={pools}
          commands={commands.commands}
          onChange={records.reload}
        />
      </section>

      <section class="panel" aria-labelledby="preview-heading">
        <h2 id="preview-heading">What it would decide now</h2>
        <DecisionPreview path={base} />
      </section>

      <section class="panel" aria-labelledby="decisions-heading">
        <h2 id="decisions-heading">Decisions</h2>
        <DecisionLog
          tenant={tenant}
          path={`${base}/decisions`}
          pageSize={20}
          caption="Decision log, newest first"
        />
      </section>

      <section class="panel" aria-labelledby="savings-heading">
        <h2 id="savings-heading">Savings</h2>
        <Savings path={base} level={3} />
      </section>

      <section class="panel" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <Timeline
          items={timelineOf({
            switches: switches.switches,
            incidents: incidents.incidents,
            commands: commands.commands,
            replicas: replicas.replicas,
            events: events.events,
            decisions: decisions.decisions,
          })}
          show={query.show}
        />
      </section>
      <section class="panel" aria-labelledby="intervals-heading">
        <h2 id="intervals-heading">Cost intervals</h2>
        <CostIntervals intervals={intervals.intervals} />
      </section>
    </>
  );
}
