// The savings ledger of one agent or of a whole tenant (`path` is either's API
// path): lifetime totals, savings per day and per month as charts, and every
// figure exactly, as the ledger folds them (UTC days and months).
import { useMemo, useState } from 'preact/hooks';
import { Chart, COLORS, periodChart } from './chart.jsx';
import { ErrorNote, Heading, Loading, Money } from './components.jsx';
import { duration, percent, usdExact, utcDay, utcMonth } from './format.js';
import { useApi } from './use_api.js';

const dollars = (micros) => (micros === null ? null : micros / 1e6);

function Totals({ life, level }) {
  if (!life) return <p class="muted">Nothing has run yet, so nothing was saved.</p>;
  return (
    <section aria-labelledby="totals-heading">
      <Heading level={level} id="totals-heading">
        Lifetime, since {utcDay(life.start)}
      </Heading>
      <dl class="totals">
        <div class="total savings">
          <dt>Saved</dt>
          <dd>
            <Money micros={life.savings_micros} testid="lifetime-savings" />
          </dd>
        </div>
        <div class="total">
          <dt>Paid</dt>
          <dd>
            <Money micros={life.cost_micros} testid="lifetime-cost" />
          </dd>
        </div>
        <div class="total">
          <dt>On-demand would have cost</dt>
          <dd>
            <Money micros={life.baseline_micros} testid="lifetime-baseline" />
          </dd>
        </div>
        <div class="total">
          <dt>Saved share</dt>
          <dd>
            <span class="figure">{percent(life.savings_micros, life.baseline_micros)}</span>
            <span class="exact">
              {duration(life.run_seconds * 1000)} of instance time, {duration(life.downtime_seconds * 1000)}{' '}
              downtime
            </span>
          </dd>
        </div>
      </dl>
    </section>
  );
}

function PeriodChart({ title, periods, label, level }) {
  const { options, data } = useMemo(() => {
    const labels = periods.map((p) => label(p.start));
    return {
      options: periodChart(labels, [
        { label: 'Saved', color: COLORS.savings, bars: true },
        { label: 'Paid', color: COLORS.cost },
        { label: 'On-demand', color: COLORS.baseline, dash: [6, 4] },
      ]),
      data: [
        labels.map((_, i) => i),
        periods.map((p) => dollars(p.savings_micros)),
        periods.map((p) => dollars(p.cost_micros)),
        periods.map((p) => dollars(p.baseline_micros)),
      ],
    };
  }, [periods, label]);
  const id = `chart-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section class="panel" aria-labelledby={id}>
      <Heading level={level} id={id}>
        {title}
      </Heading>
      {periods.length === 0 ? (
        <p class="muted">No figures yet.</p>
      ) : (
        <Chart
          label={`${title}: saved, paid and on-demand cost per period, in US dollars`}
          options={options}
          data={data}
        />
      )}
    </section>
  );
}

function FiguresTable({ periods, label, caption }) {
  return (
    // Scrolls on its own, so it takes the keyboard focus to be scrolled with keys.
    <div class="table-scroll tall" tabIndex={0} role="region" aria-label={caption}>
      <table class="figures">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Period (UTC)</th>
            <th scope="col" class="num">
              Paid
            </th>
            <th scope="col" class="num">
              On-demand
            </th>
            <th scope="col" class="num">
              Saved
            </th>
            <th scope="col" class="num">
              Saved share
            </th>
            <th scope="col" class="num">
              Instance time
            </th>
          </tr>
        </thead>
        <tbody>
          {[...periods].reverse().map((p) => (
            <tr key={p.start}>
              <th scope="row">{label(p.start)}</th>
              <td class="num">{usdExact(p.cost_micros)}</td>
              <td class="num">{usdExact(p.baseline_micros)}</td>
              <td class="num" data-testid={`saved-${label(p.start)}`}>
                {usdExact(p.savings_micros)}
              </td>
              <td class="num">{percent(p.savings_micros, p.baseline_micros)}</td>
              <td class="num">{duration(p.run_seconds * 1000)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Savings({ path, level = 2 }) {
  const [by, setBy] = useState('day');
  const { data, error } = useApi(
    {
      day: [`${path}/savings`, { period: 'day' }],
      month: [`${path}/savings`, { period: 'month' }],
      lifetime: [`${path}/savings`, { period: 'lifetime' }],
    },
    path,
  );
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="Loading the savings ledger" />;
  const days = data.day.periods;
  const months = data.month.periods;
  return (
    <div class="savings">
      <Totals life={data.lifetime.periods[0]} level={level} />
      <div class="grid-2">
        <PeriodChart title="Savings per day" periods={days} label={utcDay} level={level} />
        <PeriodChart title="Savings per month" periods={months} label={utcMonth} level={level} />
      </div>
      <section class="panel" aria-labelledby="figures-heading">
        <Heading level={level} id="figures-heading">
          Exact figures
        </Heading>
        <fieldset class="segmented">
          <legend>Per</legend>
          {[
            ['day', 'Day'],
            ['month', 'Month'],
          ].map(([value, text]) => (
            <label key={value}>
              <input
                type="radio"
                name="figures-by"
                value={value}
                checked={by === value}
                onChange={() => setBy(value)}
              />
              {text}
            </label>
          ))}
        </fieldset>
        <FiguresTable
          periods={by === 'day' ? days : months}
          label={by === 'day' ? utcDay : utcMonth}
          caption={`Cost and savings per ${by}, newest first, to the micro-dollar`}
        />
      </section>
    </div>
  );
}
