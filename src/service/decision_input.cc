#include "service/decision_input.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/json_output.h"
#include "service/use_case.h"
#include "spotopt/decision/guards.h"
#include "spotopt/decision/risk.h"

namespace spotopt {

absl::StatusOr<AgentFacts> LoadAgentFacts(Transaction& tx, Agent agent) {
  AgentFacts f;
  SPOTOPT_ASSIGN_OR_RETURN(f.replica, LiveReplica(tx, agent));
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> commands, tx.ListCommands(agent.id));
  for (Command& c : commands) {
    if (c.is_placement()) f.commands.push_back(std::move(c));
  }
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> incidents, tx.ListIncidents(agent.id));
  for (Incident& i : incidents) {
    if (!i.closed_at) f.open_incidents.push_back(std::move(i));
  }
  f.agent = std::move(agent);
  return f;
}

absl::StatusOr<decision::DecisionInput> BuildInput(const AgentFacts& facts, MarketReader& markets,
                                                   decision::Trigger trigger, Time now,
                                                   const ControllerOptions& o) {
  const Agent& agent = facts.agent;
  const Placement& here = agent.placement;
  if (here.instance_type.empty() || here.region.empty()) {
    return Refused("the agent's instance type is unknown: there is no market to decide in");
  }
  decision::DecisionInput in;
  in.trigger = trigger;
  in.now = now;
  in.agent_id = agent.id;
  in.placement = here;
  in.placement_since = agent.placement_since;
  in.config = agent.config;
  if (facts.replica) {
    in.replica = decision::ReplicaView{facts.replica->id, facts.replica->state, facts.replica->pool,
                                       !facts.replica->instance_id.empty()};
  }
  for (const Command& c : facts.commands) {
    if (!c.is_placement()) continue;
    in.switch_pending |= !IsClosed(c.state);
    in.switch_in_flight |= c.state == CommandState::kLeased;
    // The switches the queue's caps count: successful, closed within the week.
    if (c.state == CommandState::kSucceeded && c.closed_at &&
        *c.closed_at > now - absl::Hours(24 * 7)) {
      in.switches.push_back(*c.closed_at);
    }
  }
  std::sort(in.switches.begin(), in.switches.end());
  for (const Incident& i : facts.open_incidents) {
    in.incidents.push_back(
        decision::IncidentView{i.signal, i.instance_id, i.notice_time, i.deadline});
  }

  std::vector<std::string> types = {here.instance_type};
  for (const std::string& t : agent.config.compatible_instance_types) {
    if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  }
  for (const std::string& type : types) {
    SPOTOPT_ASSIGN_OR_RETURN(const TypeMarket* m, markets.Get(agent.tenant_id, here.region, type));
    in.pools.insert(in.pools.end(), m->pools.begin(), m->pools.end());
    if (type == here.instance_type && m->view.on_demand) {
      in.on_demand = Money::FromMicros(m->view.on_demand->point.price_micros);
    }
  }
  // The agent's own pool is always a candidate, priced or not.
  if (const std::optional<Pool> pool = here.pool(); pool && !decision::FindPool(in, *pool)) {
    decision::PoolMarket p;
    p.pool = *pool;
    p.on_demand = in.on_demand;
    SPOTOPT_ASSIGN_OR_RETURN(const TypeMarket* m,
                             markets.Get(agent.tenant_id, here.region, here.instance_type));
    p.advisor = m->view.advisor;
    in.pools.insert(in.pools.begin(), std::move(p));
  }
  in.max_price_age = o.fresh_price;
  in.gap = o.sef.gap;
  in.signal_window = o.signal_window;
  return in;
}

std::string SummarizeInputs(const decision::DecisionInput& in) {
  namespace bj = boost::json;
  const auto price = [](const std::optional<Money>& m) -> bj::value {
    if (!m) return nullptr;
    return m->micros();
  };
  bj::array pools;
  for (const decision::PoolMarket& p : in.pools) {
    pools.push_back(bj::object{
        {"pool_id", p.pool.id()},
        {"price_micros", price(p.spot ? std::optional<Money>(p.spot->price) : std::nullopt)},
        {"age_seconds", p.spot ? bj::value(absl::ToInt64Seconds(in.now - p.spot->observed_at))
                               : bj::value(nullptr)},
        {"risk", decision::Risk(p)}});
  }
  return json::Serialize(bj::object{
      {"trigger", decision::ToString(in.trigger)},
      {"mode", ToString(in.placement.mode)},
      {"pool_id", in.placement.pool() ? bj::value(in.placement.pool()->id()) : bj::value(nullptr)},
      {"placement_hours", absl::ToDoubleHours(in.now - in.placement_since)},
      {"config_version", in.config.version},
      {"on_demand_micros", price(in.on_demand)},
      {"switches_day", decision::SwitchesWithin(in, absl::Hours(24))},
      {"switches_week", decision::SwitchesWithin(in, absl::Hours(24 * 7))},
      {"switch_pending", in.switch_pending},
      {"replica", in.replica ? bj::value(ToString(in.replica->state)) : bj::value(nullptr)},
      {"open_incidents", static_cast<int64_t>(in.incidents.size())},
      {"pools", std::move(pools)}});
}

}  // namespace spotopt
