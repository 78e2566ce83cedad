// Prices: one series of the tenant (a spot pool or an on-demand price) as the SEF
// pipeline cleaned it, with its interpolated buckets and gaps marked, beside the
// market of its instance type: every AZ's latest price and volatility, its
// interruption risk as the decision engines see it and the signals behind it, and
// the Spot Advisor's interruption band.
import { useMemo, useState } from 'preact/hooks';
import { pathOf } from './api.js';
import { Chart } from './chart.jsx';
import { ErrorNote, Loading } from './components.jsx';
import { RiskCell } from './decision_preview.jsx';
import { DEFAULT_RISK_CEILING, riskPercent, signalsText } from './decision_text.js';
import { count, duration, pricePerHour, utc } from './format.js';
import { PoolRisk } from './pool_risk.jsx';
import { priceChart } from './price_chart.js';
import { href, replaceHash } from './router.js';
import { useApi } from './use_api.js';

const RANGES = [
  ['1d', '1 day', 1],
  ['3d', '3 days', 3],
  ['7d', '7 days', 7],
  ['30d', '30 days', 30],
  ['all', 'All', null],
];

const seriesKey = (p) => [p.region, p.instance_type, p.az].join('|');

function seriesName(p) {
  return p.az ? `${p.instance_type}.${p.az} (spot)` : `${p.instance_type} on-demand`;
}

function SeriesPicker({ series, value, onChange }) {
  const groups = new Map();
  for (const p of series) {
    const group = `${p.region} ${p.instance_type}`;
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(p);
  }
  return (
    <div class="field grow">
      <label for="price-series">Series</label>
      <select id="price-series" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {[...groups].map(([group, members]) => (
          <optgroup key={group} label={group}>
            {members.map((p) => (
              <option key={seriesKey(p)} value={seriesKey(p)}>
                {seriesName(p)}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
    </div>
  );
}

function Advisor({ market }) {
  const a = market.advisor;
  return (
    <section class="panel" aria-labelledby="advisor-heading">
      <h2 id="advisor-heading">Spot Advisor</h2>
      {a ? (
        <dl class="facts">
          <div>
            <dt>Interruption frequency</dt>
            <dd>
              <span class={`band band-${a.band}`} data-testid="advisor-band">
                {a.interruption_frequency}
              </span>{' '}
              (band {a.band} of 0–4)
            </dd>
          </div>
          <div>
            <dt>Savings over on-demand</dt>
            <dd>{a.savings_percent}%</dd>
          </div>
        </dl>
      ) : (
        <p class="muted">
          The server has no Spot Advisor entry for {market.instance_type} in {market.region}.
        </p>
      )}
    </section>
  );
}

// Every pool of the market: its latest price and age, how much it moved, and its
// interruption risk as the decision engines see it, with the signals behind it.
function MarketPools({ market }) {
  return (
    <section class="panel span-all" aria-labelledby="pools-heading">
      <h2 id="pools-heading">
        Pools of {market.instance_type} in {market.region}
      </h2>
      <div class="table-scroll">
        <table class="compact">
          <caption class="visually-hidden">
            Every pool of {market.instance_type} in {market.region}, with its risk
          </caption>
          <thead>
            <tr>
              <th scope="col">AZ</th>
              <th scope="col" class="num">
                Latest
              </th>
              <th scope="col">Age</th>
              <th scope="col" class="num">
                <abbr title="Volatility over the last hour">Vol. 1 h</abbr>
              </th>
              <th scope="col" class="num">
                <abbr title="Volatility over the last 24 hours">Vol. 24 h</abbr>
              </th>
              <th scope="col" class="num">
                <abbr title="Chance of an interruption within a month, as the decision engines see it">
                  Risk
                </abbr>
              </th>
              <th scope="col">
                <abbr title="Termination notices and rebalance recommendations the tenant's agents reported from the pool in the last 24 hours">
                  Signals 24 h
                </abbr>
              </th>
            </tr>
          </thead>
          <tbody>
            {market.pools.map((p) => (
              <tr key={p.pool_id}>
                <th scope="row">{p.az}</th>
                <td class="num">{p.latest ? pricePerHour(p.latest.price_micros) : '—'}</td>
                <td>{p.latest ? duration(p.latest.age_seconds * 1000) : '—'}</td>
                <td class="num">{(100 * p.volatility_hour).toFixed(2)}%</td>
                <td class="num">{(100 * p.volatility_day).toFixed(2)}%</td>
                <RiskCell risk={p.risk} testid={`market-risk-${p.az}`} />
                <td>{signalsText(p)}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">on-demand</th>
              <td class="num">
                {market.on_demand ? pricePerHour(market.on_demand.price_micros) : 'unknown'}
              </td>
              <td>{market.on_demand ? duration(market.on_demand.age_seconds * 1000) : '—'}</td>
              <td />
              <td />
              <td />
              <td />
            </tr>
          </tbody>
        </table>
      </div>
      <p class="help">
        Risk adds the Advisor band, the signals and the day's price moves; the default risk ceiling of an
        agent is {riskPercent(DEFAULT_RISK_CEILING)}: pools above it are not moved to.
      </p>
    </section>
  );
}

function SeriesStats({ points, gaps }) {
  const interpolated = points.filter((p) => p.source === 'interpolated').length;
  const discrepancies = points.filter((p) => p.discrepancy).length;
  const empty = gaps.filter((g) => !g.filled).length;
  return (
    <dl class="summary">
      <div class="stat">
        <dt>Measured buckets</dt>
        <dd data-testid="measured-count">{count(points.length - interpolated)}</dd>
      </div>
      <div class="stat stat-interpolated">
        <dt>Interpolated buckets</dt>
        <dd data-testid="interpolated-count">{count(interpolated)}</dd>
      </div>
      <div class="stat stat-gap">
        <dt>Gaps left empty</dt>
        <dd data-testid="empty-gap-count">{count(empty)}</dd>
      </div>
      <div class="stat">
        <dt>Gaps filled</dt>
        <dd data-testid="filled-gap-count">{count(gaps.length - empty)}</dd>
      </div>
      <div class="stat">
        <dt>Source disagreements</dt>
        <dd>{count(discrepancies)}</dd>
      </div>
    </dl>
  );
}

function Gaps({ gaps }) {
  if (gaps.length === 0) return null;
  return (
    <details>
      <summary>Every gap ({count(gaps.length)})</summary>
      <table class="compact">
        <thead>
          <tr>
            <th scope="col">After (UTC)</th>
            <th scope="col">Before (UTC)</th>
            <th scope="col" class="num">
              Missing buckets
            </th>
            <th scope="col">Filled</th>
          </tr>
        </thead>
        <tbody>
          {gaps.map((g) => (
            <tr key={g.after}>
              <td>{utc(g.after)}</td>
              <td>{utc(g.before)}</td>
              <td class="num">{count(g.missing_buckets)}</td>
              <td>{g.filled ? 'interpolated' : 'left empty'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function SeriesView({ tenant, series, range, showOnDemand }) {
  const days = RANGES.find(([key]) => key === range)?.[2];
  const from = days ? new Date(Date.now() - days * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
  const { data, error } = useApi(
    {
      history: [
        pathOf('tenants', tenant, 'prices'),
        {
          region: series.region,
          instance_type: series.instance_type,
          az: series.az,
          view: 'interpolated',
          from,
        },
      ],
      market: [
        pathOf('tenants', tenant, 'market'),
        { region: series.region, instance_type: series.instance_type },
      ],
    },
    `${seriesKey(series)}/${range}`,
  );
  const chart = useMemo(() => {
    if (!data) return null;
    const onDemand = series.az && showOnDemand ? data.market.on_demand?.price_micros : null;
    return priceChart({ points: data.history.points, gaps: data.history.gaps, onDemandMicros: onDemand });
  }, [data, showOnDemand]);
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="Loading the price series" />;
  const { points, gaps } = data.history;
  return (
    <div class="grid-2 wide-first">
      <section class="panel" aria-labelledby="series-heading">
        <h2 id="series-heading">{seriesName(series)}</h2>
        <SeriesStats points={points} gaps={gaps} />
        {points.length === 0 ? (
          <p class="muted">No prices in this range.</p>
        ) : (
          <Chart
            label={`Clean price series of ${seriesName(series)} in US dollars per hour: ${points.length} buckets, ${gaps.length} gaps`}
            options={chart.options}
            data={chart.data}
            height={320}
          />
        )}
        <p class="legend-note">
          <span class="swatch swatch-gap" aria-hidden="true" /> gap left empty (too long to interpolate){' '}
          <span class="swatch swatch-filled" aria-hidden="true" /> gap filled by interpolation
        </p>
        <Gaps gaps={gaps} />
      </section>
      <Advisor market={data.market} />
      <MarketPools market={data.market} />
    </div>
  );
}

export function Prices({ tenant, query, focusTitle }) {
  const latest = useApi({ latest: [pathOf('tenants', tenant, 'prices', 'latest')] }, tenant);
  const [selected, setSelected] = useState(query.series ?? '');
  const [range, setRange] = useState(query.range ?? '3d');
  // Off at first: next to on-demand, a spot price's moves look flat.
  const [showOnDemand, setShowOnDemand] = useState(false);
  const series = latest.data?.latest.prices ?? [];
  // Spot pools first: they are what the page is for.
  const ordered = [...series].sort((a, b) => !a.az - !b.az || seriesKey(a).localeCompare(seriesKey(b)));
  const current = ordered.find((p) => seriesKey(p) === selected) ?? ordered[0];
  const markets = [
    ...new Map(ordered.filter((p) => p.az).map((p) => [`${p.region}|${p.instance_type}`, p])).values(),
  ];
  const choose = (key, r = range) => {
    setSelected(key);
    setRange(r);
    replaceHash(href('t', tenant, 'prices', { series: key, range: r }));
  };

  return (
    <>
      <h1 tabIndex={-1} ref={focusTitle}>
        Prices
      </h1>
      {latest.error ? <ErrorNote error={latest.error} /> : null}
      {!latest.data ? (
        <Loading what="Loading the price series" />
      ) : ordered.length === 0 ? (
        <p class="muted">This tenant has no prices yet: agents report them, or import a price list.</p>
      ) : (
        <>
          <section class="panel" aria-labelledby="risk-heading">
            <h2 id="risk-heading">Pools by interruption risk</h2>
            <PoolRisk
              tenant={tenant}
              markets={markets}
              onChoose={(region, type, az) => {
                choose([region, type, az].join('|'));
                document.getElementById('price-series')?.focus();
              }}
            />
          </section>
          <form class="filters" aria-label="Choose a series" onSubmit={(e) => e.preventDefault()}>
            <SeriesPicker series={ordered} value={seriesKey(current)} onChange={(key) => choose(key)} />
            <fieldset class="segmented">
              <legend>Range</legend>
              {RANGES.map(([key, label]) => (
                <label key={key}>
                  <input
                    type="radio"
                    name="price-range"
                    value={key}
                    checked={range === key}
                    onChange={() => choose(seriesKey(current), key)}
                  />
                  {label}
                </label>
              ))}
            </fieldset>
            <label class="check">
              <input
                type="checkbox"
                checked={showOnDemand}
                onChange={(e) => setShowOnDemand(e.currentTarget.checked)}
              />
              Show the on-demand price
            </label>
          </form>
          <SeriesView tenant={tenant} series={current} range={range} showOnDemand={showOnDemand} />
        </>
      )}
    </>
  );
}
