// The savings ledger of an agent or a tenant: run segments priced with measured
// prices (never interpolated ones), folded by spotopt/ledger/ledger.h.
#include <algorithm>
#include <map>
#include <tuple>

#include "service/use_case.h"
#include "spotopt/service/controller.h"

namespace spotopt {
namespace {

// Price steps per series, loaded once per call however many segments share them.
class StepCache {
 public:
  StepCache(Transaction& tx, std::string_view tenant_id, const sef::Options& o)
      : tx_(tx), tenant_id_(tenant_id), options_(o) {}

  absl::StatusOr<const std::vector<ledger::PriceStep>*> Spot(const Placement& p) {
    if (p.mode != Mode::kSpot || p.az.empty() || p.instance_type.empty()) return &empty_;
    const Pool pool{p.region, p.az, p.instance_type};
    auto [it, inserted] = spot_.try_emplace(pool.region + "/" + pool.id());
    if (inserted) {
      SPOTOPT_ASSIGN_OR_RETURN(std::vector<PriceObservation> raw,
                               tx_.ListPriceObservations(tenant_id_, pool, absl::InfinitePast(),
                                                         absl::InfiniteFuture()));
      it->second = ledger::StepsFrom(Measure(raw, options_));
    }
    return &it->second;
  }

  absl::StatusOr<const std::vector<ledger::PriceStep>*> OnDemand(const Placement& p) {
    if (p.instance_type.empty()) return &empty_;
    auto [it, inserted] = on_demand_.try_emplace(p.region + "/" + p.instance_type);
    if (inserted) {
      SPOTOPT_ASSIGN_OR_RETURN(it->second,
                               OnDemandSteps(tx_, tenant_id_, p.region, p.instance_type, options_));
    }
    return &it->second;
  }

 private:
  Transaction& tx_;
  std::string_view tenant_id_;
  const sef::Options& options_;
  const std::vector<ledger::PriceStep> empty_;
  std::map<std::string, std::vector<ledger::PriceStep>> spot_;
  std::map<std::string, std::vector<ledger::PriceStep>> on_demand_;
};

}  // namespace

absl::StatusOr<std::vector<ledger::CostInterval>> Controller::CostIntervals(
    std::string_view tenant_id, std::string_view agent_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  if (!agent_id.empty()) SPOTOPT_RETURN_IF_ERROR(CheckId(agent_id, "agent"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kRead,
      [&](Transaction& tx) -> absl::StatusOr<std::vector<ledger::CostInterval>> {
        std::vector<Agent> agents;
        if (agent_id.empty()) {
          absl::StatusOr<Tenant> t = tx.GetTenant(tenant_id);
          if (absl::IsNotFound(t.status())) return NotFound("tenant");
          if (!t.ok()) return t.status();
          SPOTOPT_ASSIGN_OR_RETURN(agents, tx.ListAgents(tenant_id));
        } else {
          SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
          agents.push_back(std::move(a));
        }
        StepCache prices(tx, tenant_id, options_.sef);
        std::vector<ledger::CostInterval> out;
        const auto add = [&](const RunSegment& seg) -> absl::Status {
          SPOTOPT_ASSIGN_OR_RETURN(const std::vector<ledger::PriceStep>* spot,
                                   prices.Spot(seg.placement));
          SPOTOPT_ASSIGN_OR_RETURN(const std::vector<ledger::PriceStep>* od,
                                   prices.OnDemand(seg.placement));
          for (ledger::CostInterval& i : ledger::Intervals(seg, *spot, *od, now)) {
            out.push_back(std::move(i));
          }
          return absl::OkStatus();
        };
        for (const Agent& a : agents) {
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<RunSegment> runs, tx.ListRunSegments(a.id));
          for (const RunSegment& seg : runs) SPOTOPT_RETURN_IF_ERROR(add(seg));
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(a.id));
          for (const Replica& r : replicas) {
            if (std::optional<RunSegment> seg = ledger::ReplicaRun(r)) {
              SPOTOPT_RETURN_IF_ERROR(add(*seg));
            }
          }
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<SwitchRecord> switches, tx.ListSwitches(a.id));
          for (const SwitchRecord& s : switches) {
            if (std::optional<ledger::CostInterval> d = ledger::Downtime(s)) {
              out.push_back(std::move(*d));
            }
          }
        }
        std::sort(out.begin(), out.end(),
                  [](const ledger::CostInterval& a, const ledger::CostInterval& b) {
                    return std::tie(a.start, a.agent_id, a.instance_id, a.kind) <
                           std::tie(b.start, b.agent_id, b.instance_id, b.kind);
                  });
        return out;
      });
}

absl::StatusOr<std::vector<ledger::Figures>> Controller::Savings(std::string_view tenant_id,
                                                                 std::string_view agent_id,
                                                                 ledger::Period period) {
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<ledger::CostInterval> intervals,
                           CostIntervals(tenant_id, agent_id));
  return ledger::Rollup(intervals, period);
}

}  // namespace spotopt
