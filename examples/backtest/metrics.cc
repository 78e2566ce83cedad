#include "metrics.h"

#include <map>

#include <fmt/format.h>
#include "absl/container/flat_hash_map.h"

namespace spotopt::backtest {

LedgerFigures& LedgerFigures::operator+=(const LedgerFigures& o) {
  cost += o.cost;
  baseline += o.baseline;
  savings += o.savings;
  replica_cost += o.replica_cost;
  downtime += o.downtime;
  return *this;
}

absl::StatusOr<LedgerRead> ReadLedger(Controller& controller, const std::string& tenant,
                                      const std::vector<std::string>& agent_ids) {
  absl::StatusOr<std::vector<ledger::CostInterval>> intervals =
      controller.CostIntervals(tenant, "");
  if (!intervals.ok()) return intervals.status();
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t k = 0; k < agent_ids.size(); ++k) index[agent_ids[k]] = k;
  std::vector<std::vector<ledger::CostInterval>> by_agent(agent_ids.size());
  for (ledger::CostInterval& i : *intervals) {
    auto it = index.find(i.agent_id);
    if (it != index.end()) by_agent[it->second].push_back(std::move(i));
  }
  LedgerRead out;
  out.agents.resize(agent_ids.size());
  std::map<Sec, int64_t> days;
  for (size_t k = 0; k < agent_ids.size(); ++k) {
    const std::vector<ledger::Figures> life =
        ledger::Rollup(by_agent[k], ledger::Period::kLifetime);
    if (life.empty()) continue;
    if (!life[0].cost || !life[0].baseline) {
      return absl::InternalError(
          fmt::format("agent {}: the ledger has an unpriced interval", agent_ids[k]));
    }
    LedgerFigures& f = out.agents[k];
    f.cost = life[0].cost->micros();
    f.baseline = life[0].baseline->micros();
    f.savings = life[0].savings->micros();
    f.downtime = absl::ToInt64Seconds(life[0].downtime);
    std::vector<ledger::CostInterval> replicas;
    for (const ledger::CostInterval& i : by_agent[k]) {
      if (i.role == RunRole::kReplica) replicas.push_back(i);
    }
    const std::vector<ledger::Figures> spare = ledger::Rollup(replicas, ledger::Period::kLifetime);
    if (!spare.empty() && spare[0].cost) f.replica_cost = spare[0].cost->micros();
    for (const ledger::Figures& d : ledger::Rollup(by_agent[k], ledger::Period::kDay)) {
      days[ToSec(d.start)] += d.cost->micros();
    }
  }
  out.daily_cost.assign(days.begin(), days.end());
  return out;
}

}  // namespace spotopt::backtest
