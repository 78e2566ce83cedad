// Which pools are risky: every spot pool of the tenant ranked by its interruption
// risk as the decision engines see it, from one market read per instance type (not
// one per pool or agent). Choosing a pool shows its price series.
import { useState } from 'preact/hooks';
import { pathOf } from './api.js';
import { ErrorNote, Loading } from './components.jsx';
import { RiskCell } from './decision_preview.jsx';
import { signalsText } from './decision_text.js';
import { pricePerHour } from './format.js';
import { useApi } from './use_api.js';

const FIRST_ROWS = 5;

// markets: [{region, instance_type}]; onChoose(region, instance_type, az).
export function PoolRisk({ tenant, markets, onChoose }) {
  const [all, setAll] = useState(false);
  const key = (m) => `${m.region}|${m.instance_type}`;
  const { data, error } = useApi(
    Object.fromEntries(
      markets.map((m) => [
        key(m),
        [pathOf('tenants', tenant, 'market'), { region: m.region, instance_type: m.instance_type }],
      ]),
    ),
    `${tenant}/${markets.map(key).join(',')}`,
  );
  if (error) return <ErrorNote error={error} />;
  if (!data) return <Loading what="Loading the markets" />;
  const pools = Object.values(data)
    .flatMap((m) => m.pools.map((p) => ({ ...p, market: m })))
    .sort((a, b) => b.risk - a.risk || a.pool_id.localeCompare(b.pool_id));
  const rows = all ? pools : pools.slice(0, FIRST_ROWS);
  return (
    <>
      <div class="table-scroll">
        <table class="compact pool-risk">
          <caption class="visually-hidden">Spot pools of the tenant, riskiest first</caption>
          <thead>
            <tr>
              <th scope="col">Pool</th>
              <th scope="col" class="num">
                Risk
              </th>
              <th scope="col">Signals 24 h</th>
              <th scope="col">Spot Advisor</th>
              <th scope="col" class="num">
                Latest
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.pool_id} data-pool={p.pool_id}>
                <th scope="row">
                  <button
                    type="button"
                    class="link"
                    onClick={() => onChoose(p.market.region, p.market.instance_type, p.az)}
                  >
                    {p.pool_id}
                    <span class="visually-hidden">: show its prices</span>
                  </button>
                </th>
                <RiskCell risk={p.risk} testid="pool-risk" />
                <td>{signalsText(p)}</td>
                <td>{p.market.advisor?.interruption_frequency ?? 'no entry'}</td>
                <td class="num">{p.latest ? pricePerHour(p.latest.price_micros) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pools.length > FIRST_ROWS ? (
        <button type="button" onClick={() => setAll(!all)}>
          {all ? `Show the riskiest ${FIRST_ROWS}` : `Show all ${pools.length} pools`}
        </button>
      ) : null}
    </>
  );
}
