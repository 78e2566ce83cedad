// The cost intervals the savings of an agent are folded from: what ran, in which
// role and market, at which $/h against which on-demand $/h, newest first.
import { useState } from 'preact/hooks';
import { Badge } from './components.jsx';
import { duration, parseTime, pricePerHour, utc } from './format.js';

const FIRST_ROWS = 20;

export function CostIntervals({ intervals }) {
  const [all, setAll] = useState(false);
  if (intervals.length === 0) return <p class="muted">No intervals yet.</p>;
  const newest = [...intervals].reverse();
  const rows = all ? newest : newest.slice(0, FIRST_ROWS);
  return (
    <>
      <div class="table-scroll">
        <table class="compact">
          <caption class="visually-hidden">Cost intervals, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Start (UTC)</th>
              <th scope="col">Length</th>
              <th scope="col">Instance</th>
              <th scope="col">Role</th>
              <th scope="col">Market</th>
              <th scope="col" class="num">
                Paid
              </th>
              <th scope="col" class="num">
                On-demand
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => (
              <tr key={`${i.instance_id}-${i.role}-${i.start}`}>
                <td>{utc(i.start)}</td>
                <td>{duration(parseTime(i.end) - parseTime(i.start))}</td>
                <td class="mono">{i.instance_id}</td>
                <td>{i.kind === 'downtime' ? <Badge value="downtime" /> : i.role}</td>
                <td>{i.mode === 'ondemand' ? 'on-demand' : i.pool_id}</td>
                <td class="num">{i.kind === 'downtime' ? '—' : pricePerHour(i.actual_micros)}</td>
                <td class="num">{i.kind === 'downtime' ? '—' : pricePerHour(i.baseline_micros)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {intervals.length > FIRST_ROWS ? (
        <button type="button" onClick={() => setAll(!all)}>
          {all ? `Show the newest ${FIRST_ROWS}` : `Show all ${intervals.length} intervals`}
        </button>
      ) : null}
    </>
  );
}
