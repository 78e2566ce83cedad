#include "decision/candidates.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include <fmt/format.h>

namespace spotopt::decision::internal {
namespace {

// The pools a reactive move may go to: a usable price, and not the signalled pool's
// AZ for the agent's own type (that AZ's capacity for it is what AWS is reclaiming).
std::vector<const PoolMarket*> Refuges(const DecisionInput& in, bool same_type_only) {
  std::vector<const PoolMarket*> out;
  for (const PoolMarket& p : in.pools) {
    const bool same_type = p.pool.instance_type == in.placement.instance_type;
    if (same_type_only && !same_type) continue;
    if (same_type && p.pool.az == in.placement.az) continue;
    if (!QuoteGuard(p.spot, in)) out.push_back(&p);
  }
  return out;
}

// Best first by `rank`, then lower risk, then lower price, then pool id: one total
// order, so the same input always ranks the same.
void SortBy(std::vector<const PoolMarket*>& pools, const RiskModel& risk, const Rank& rank) {
  using Key = std::tuple<double, double, int64_t, std::string, const PoolMarket*>;
  std::vector<Key> keyed;
  keyed.reserve(pools.size());
  for (const PoolMarket* p : pools) {
    const int64_t price = p->spot ? p->spot->price.micros() : INT64_MAX;
    keyed.emplace_back(rank(*p), Risk(*p, risk), price, p->pool.id(), p);
  }
  std::sort(keyed.begin(), keyed.end());
  for (size_t i = 0; i < pools.size(); ++i) pools[i] = std::get<4>(keyed[i]);
}

}  // namespace

Decision Start(const Engine& engine, const DecisionInput& in, const RiskModel& risk) {
  Decision d;
  d.engine = std::string(engine.name());
  d.engine_version = std::string(engine.version());
  d.reason = Reason::kNoBetterPlacement;
  const PoolMarket* here = CurrentPool(in);
  d.risk = in.placement.mode == Mode::kSpot && here != nullptr ? Risk(*here, risk) : 0;
  d.confidence = Confidence(in, {here});
  d.message = "No placement beats the current one by enough.";
  return d;
}

std::vector<const PoolMarket*> Eligible(const DecisionInput& in, const RiskModel& risk,
                                        const Rank& rank) {
  const std::optional<Pool> here = in.placement.pool();
  std::vector<const PoolMarket*> out;
  for (const PoolMarket& p : in.pools) {
    if (here && p.pool == *here) continue;
    if (!TargetGuard(in, p, risk)) out.push_back(&p);
  }
  SortBy(out, risk, rank);
  return out;
}

double Confidence(const DecisionInput& in, std::initializer_list<const PoolMarket*> pools) {
  double c = 1;
  for (const PoolMarket* p : pools) {
    if (p == nullptr || !p->spot) continue;
    const double age = absl::FDivDuration(in.now - p->spot->observed_at, in.max_price_age);
    c = std::min(c, p->spot->confidence * (1.0 - 0.5 * std::clamp(age, 0.0, 1.0)));
    if (!p->advisor) c *= 0.9;
  }
  return std::clamp(c, 0.0, 1.0);
}

std::optional<Money> CurrentPrice(const DecisionInput& in) {
  if (in.placement.mode == Mode::kOnDemand) return in.on_demand;
  const PoolMarket* here = CurrentPool(in);
  if (here == nullptr || !here->spot) return std::nullopt;
  return here->spot->price;
}

int64_t SavingsTo(const DecisionInput& in, std::optional<Money> to) {
  const std::optional<Money> from = CurrentPrice(in);
  return from && to ? from->micros() - to->micros() : 0;
}

void MoveTo(Decision& d, const DecisionInput& in, const PoolMarket& target, const RiskModel& risk) {
  d.action = Action::kSwitchSpot;
  d.target = target.pool;
  d.risk = Risk(target, risk);
  d.expected_savings_micros =
      SavingsTo(in, target.spot ? std::optional<Money>(target.spot->price) : std::nullopt);
}

void MoveToOnDemand(Decision& d, const DecisionInput& in) {
  d.action = Action::kSwitchOnDemand;
  d.target.reset();
  d.risk = 0;
  d.expected_savings_micros = SavingsTo(in, in.on_demand);
}

Decision React(const Engine& engine, const DecisionInput& in, const RiskModel& risk,
               const Rank& rank) {
  Decision d = Start(engine, in, risk);
  const bool termination = in.trigger == Trigger::kTermination;
  d.reason = termination ? Reason::kTerminationNotice : Reason::kRebalanceSignal;
  const std::optional<ReplicaView>& replica = in.replica;
  const bool promotable = replica && replica->has_instance &&
                          (replica->state == ReplicaState::kReady ||
                           (termination && replica->state == ReplicaState::kSyncing));

  if (termination && promotable) {
    d.action = Action::kPromoteReplica;
    d.target = replica->pool;
    const PoolMarket* pool = FindPool(in, replica->pool);
    d.risk = pool != nullptr ? Risk(*pool, risk) : d.risk;
    d.message = fmt::format("Termination notice: promote replica {} in {}.", replica->id,
                            replica->pool.id());
    return d;
  }
  if (replica) {
    d.message = fmt::format("{}: replica {} ({}) in {} protects the agent.",
                            termination ? "Termination notice" : "Rebalance recommendation",
                            replica->id, ToString(replica->state), replica->pool.id());
    return d;
  }
  if (in.config.replica_mode != ReplicaMode::kOff) {
    std::vector<const PoolMarket*> standby = Refuges(in, true);
    SortBy(standby, risk, rank);
    if (!standby.empty()) {
      d.action = Action::kCreateReplica;
      d.target = standby.front()->pool;
      d.risk = Risk(*standby.front(), risk);
      d.message = fmt::format("Rebalance recommendation: a standby replica in {} (risk {:.2f}).",
                              d.target->id(), Risk(*standby.front(), risk));
      return d;
    }
  }
  std::vector<const PoolMarket*> refuges = Refuges(in, false);
  SortBy(refuges, risk, rank);
  const std::string_view signal = termination ? "Termination notice" : "Rebalance recommendation";
  if (!refuges.empty()) {
    MoveTo(d, in, *refuges.front(), risk);
    d.confidence = Confidence(in, {refuges.front()});
    d.message = fmt::format("{}: move to {} (risk {:.2f}).", signal, d.target->id(), d.risk);
  } else if (termination && in.placement.mode == Mode::kSpot) {
    MoveToOnDemand(d, in);
    d.message = fmt::format("{}: no spot pool has a usable price; move to on-demand.", signal);
  } else {
    d.message = fmt::format("{}: no other pool has a usable price; monitor.", signal);
  }
  return d;
}

}  // namespace spotopt::decision::internal
