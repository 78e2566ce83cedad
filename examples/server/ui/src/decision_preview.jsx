// "What would it decide now": the tenant's engine asked for the agent at this moment
// (GET .../decide changes nothing), with the candidate pools it weighed exactly as it
// saw them: price and age, whether the price is stale, in a gap or interpolated, the
// risk, the Spot Advisor band and the interruptions seen there.
import { Badge, ErrorNote, Loading } from './components.jsx';
import {
  actionText,
  confidencePercent,
  engineText,
  guardText,
  reasonText,
  riskLevel,
  riskPercent,
} from './decision_text.js';
import { count, duration, parseTime, pricePerHour, utc } from './format.js';
import { useApi } from './use_api.js';

// Why a candidate's price cannot be acted on, in words; empty when it can.
function priceFlags(price) {
  if (!price) return ['no price'];
  return [
    price.stale ? 'stale' : '',
    price.in_gap ? 'in a gap' : '',
    price.source === 'interpolated' ? 'interpolated' : '',
  ].filter(Boolean);
}

export function RiskCell({ risk, testid }) {
  const level = riskLevel(risk);
  return (
    <td class="num">
      <span class={`risk risk-${level}`} data-testid={testid}>
        {riskPercent(risk)}
      </span>
      <span class="sub">{level}</span>
    </td>
  );
}

function Candidates({ input, decision }) {
  const here = input.agent.placement;
  const current = here.mode === 'spot' ? `${here.instance_type}.${here.az}` : null;
  const marks = (pool) =>
    [
      pool === current ? 'current' : '',
      pool === decision.target_pool_id ? 'target' : '',
      pool === decision.held_target_pool_id ? 'held back' : '',
    ].filter(Boolean);
  return (
    <div class="table-scroll">
      <table class="compact candidates">
        <caption>Candidate pools it weighed</caption>
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <th scope="col" class="num">
              Price
            </th>
            <th scope="col">Age</th>
            <th scope="col">Price usable</th>
            <th scope="col" class="num">
              Risk
            </th>
            <th scope="col">Spot Advisor</th>
            <th scope="col" class="num">
              <abbr title="Termination notices from the pool within the signal window">Terminations</abbr>
            </th>
            <th scope="col" class="num">
              <abbr title="Rebalance recommendations from the pool within the signal window">Rebalances</abbr>
            </th>
          </tr>
        </thead>
        <tbody>
          {input.market.pools.map((p) => {
            const flags = priceFlags(p.price);
            return (
              <tr key={p.pool_id} data-pool={p.pool_id}>
                <th scope="row">
                  {p.pool_id}{' '}
                  {marks(p.pool_id).map((m) => (
                    <Badge key={m} value={m} kind={`mark-${m.replace(' ', '-')}`} />
                  ))}
                </th>
                <td class="num">{p.price ? pricePerHour(p.price.micros) : '—'}</td>
                <td>{p.price ? duration(p.price.age_seconds * 1000) : '—'}</td>
                <td>{flags.length ? <Badge value={flags.join(', ')} kind="failed" /> : 'yes'}</td>
                <RiskCell risk={p.risk} testid="candidate-risk" />
                <td>{p.advisor ? `${p.advisor.label} (band ${p.advisor.band})` : 'no entry'}</td>
                <td class="num">{p.terminations}</td>
                <td class="num">{p.rebalances}</td>
              </tr>
            );
          })}
          <tr>
            <th scope="row">on-demand {here.instance_type}</th>
            <td class="num">{pricePerHour(input.market.on_demand_micros)}</td>
            <td colSpan={6} />
          </tr>
        </tbody>
      </table>
    </div>
  );
}

// The limits the guards hold the decision to, with where the agent stands.
function Limits({ input }) {
  const c = input.config;
  const since = parseTime(input.now) - parseTime(input.agent.placement_since);
  return (
    <p class="muted limits">
      In its placement {duration(since)} (minimum {c.min_pool_duration_hours} h); switches today{' '}
      {input.history.switches_day} of {c.max_switches_per_day}, this week {input.history.switches_week} of{' '}
      {c.max_switches_per_week}; moves only for {c.min_savings_percent}% savings within a risk of{' '}
      {riskPercent(c.risk_threshold)}.{input.agent.switch_pending ? ' A switch is already queued.' : ''}
    </p>
  );
}

export function DecisionPreview({ path }) {
  const { data, error, loading, reload } = useApi({ preview: [`${path}/decide`] }, path);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="Asking the engine" />;
  const { decision: d, input, engine_asked: asked, fallback } = data.preview;
  const facts = [
    [
      'Decision',
      <>
        <span data-testid="preview-action">{actionText(d.action, d.target_pool_id)}</span>{' '}
        {d.guard ? <Badge value="held" /> : null}
      </>,
    ],
    ['Why', d.message ? `${reasonText(d.reason)}: ${d.message}` : reasonText(d.reason)],
    ['Held back', d.guard ? guardText(d.guard) : 'no'],
    ...(d.held_action ? [['It wanted', actionText(d.held_action, d.held_target_pool_id)]] : []),
    ['Risk where it would run', <span data-testid="preview-risk">{riskPercent(d.risk)}</span>],
    [
      'Expected savings',
      <>
        {pricePerHour(d.expected_savings_micros)}{' '}
        <span class="muted">({count(d.expected_savings_micros)} µ$/h)</span>
      </>,
    ],
    ['Confidence', confidencePercent(d.confidence)],
    ['Engine', fallback ? `${engineText(d)}, for ${asked}: ${fallback}` : engineText(d)],
  ];
  return (
    <>
      <div class="preview-head">
        <p class="muted">As of {utc(input.now, { seconds: true })}; nothing is queued by asking.</p>
        <button type="button" onClick={reload} disabled={loading}>
          Ask again
        </button>
      </div>
      <dl class="facts" data-testid="preview">
        {facts.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <Limits input={input} />
      <Candidates input={input} decision={d} />
    </>
  );
}
