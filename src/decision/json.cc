#include "spotopt/decision/json.h"

#include <cmath>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "common/enum_text.h"
#include "common/json_input.h"
#include "common/json_output.h"
#include "decision/json_objects.h"
#include "domain/config_json.h"
#include "spotopt/decision/guards.h"
#include "spotopt/decision/risk.h"

namespace spotopt::decision {
namespace {

namespace bj = boost::json;

bj::value Stamp(Time t) { return bj::string(FormatTimestamp(t)); }

bj::value Micros(const std::optional<Money>& m) {
  if (!m) return nullptr;
  return m->micros();
}

bj::object PlacementObject(const Placement& p) {
  return {{"instance_id", p.instance_id},
          {"instance_type", p.instance_type},
          {"region", p.region},
          {"az", p.az},
          {"mode", ToString(p.mode)}};
}

bj::value QuoteObject(const std::optional<PriceQuote>& q, const DecisionInput& in) {
  if (!q) return nullptr;
  const std::optional<Guard> unusable = QuoteGuard(q, in);
  return bj::object{{"micros", q->price.micros()},
                    {"observed_at", Stamp(q->observed_at)},
                    {"age_seconds", absl::ToDoubleSeconds(in.now - q->observed_at)},
                    {"source", sef::ToString(q->source)},
                    {"confidence", q->confidence},
                    {"stale", unusable == Guard::kStalePrice},
                    {"in_gap", unusable == Guard::kPriceGap}};
}

bj::object PoolObject(const PoolMarket& p, const DecisionInput& in) {
  bj::object o{{"pool_id", p.pool.id()},
               {"region", p.pool.region},
               {"az", p.pool.az},
               {"instance_type", p.pool.instance_type},
               {"price", QuoteObject(p.spot, in)},
               {"on_demand_micros", Micros(p.on_demand)},
               {"volatility_hour", p.volatility_hour},
               {"volatility_day", p.volatility_day},
               {"terminations", p.terminations},
               {"rebalances", p.rebalances},
               {"risk", Risk(p)}};
  if (p.advisor) {
    o["advisor"] = bj::object{{"band", p.advisor->band.index},
                              {"label", p.advisor->band.label},
                              {"savings_percent", p.advisor->savings_percent}};
  } else {
    o["advisor"] = nullptr;
  }
  if (p.history) {
    const PriceHistory& h = *p.history;
    o["history"] = bj::object{{"mean_micros", h.mean.micros()},
                              {"min_micros", h.min.micros()},
                              {"max_micros", h.max.micros()},
                              {"deviation_day", h.deviation_day},
                              {"changes", h.changes},
                              {"since_change_seconds", absl::ToInt64Seconds(h.since_change)}};
  }
  return o;
}

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", field, why));
}

template <class E>
absl::StatusOr<E> EnumField(const bj::object& o, std::string_view key) {
  absl::StatusOr<std::optional<std::string>> text = json::OptString(o, key);
  if (!text.ok()) return text.status();
  if (!*text) return Invalid(key, "is required");
  const std::optional<E> e = ParseEnum<E>(**text);
  if (!e) return Invalid(key, fmt::format("unknown value \"{}\"", **text));
  return *e;
}

}  // namespace

bj::object InputObject(const DecisionInput& in) {
  bj::object agent{{"id", in.agent_id},
                   {"placement", PlacementObject(in.placement)},
                   {"placement_since", Stamp(in.placement_since)},
                   {"switch_pending", in.switch_pending},
                   {"switch_in_flight", in.switch_in_flight}};
  if (in.replica) {
    agent["replica"] = bj::object{{"id", in.replica->id},
                                  {"state", ToString(in.replica->state)},
                                  {"pool_id", in.replica->pool.id()},
                                  {"has_instance", in.replica->has_instance}};
  } else {
    agent["replica"] = nullptr;
  }
  bj::array switches;
  for (Time t : in.switches) switches.push_back(Stamp(t));
  bj::array incidents;
  for (const IncidentView& i : in.incidents) {
    incidents.push_back(bj::object{{"signal", ToString(i.signal)},
                                   {"instance_id", i.instance_id},
                                   {"notice_time", Stamp(i.notice_time)},
                                   {"deadline", i.deadline ? Stamp(*i.deadline) : nullptr}});
  }
  bj::array pools;
  for (const PoolMarket& p : in.pools) pools.push_back(PoolObject(p, in));
  return {{"version", in.version},
          {"trigger", ToString(in.trigger)},
          {"now", Stamp(in.now)},
          {"agent", std::move(agent)},
          {"config", ConfigJson(in.config)},
          {"history", bj::object{{"switches", std::move(switches)},
                                 {"switches_day", SwitchesWithin(in, absl::Hours(24))},
                                 {"switches_week", SwitchesWithin(in, absl::Hours(24 * 7))},
                                 {"incidents", std::move(incidents)}}},
          {"market", bj::object{{"on_demand_micros", Micros(in.on_demand)},
                                {"max_price_age_seconds", absl::ToInt64Seconds(in.max_price_age)},
                                {"gap_seconds", absl::ToInt64Seconds(in.gap)},
                                {"signal_window_seconds", absl::ToInt64Seconds(in.signal_window)},
                                {"pools", std::move(pools)}}}};
}

bj::object DecisionObject(const Decision& d) {
  bj::object o{
      {"action", ToString(d.action)},
      {"target_pool_id", d.target ? bj::value(d.target->id()) : nullptr},
      {"reason", ToString(d.reason)},
      {"message", d.message},
      {"risk", d.risk},
      {"expected_savings_micros", d.expected_savings_micros},
      {"confidence", d.confidence},
      {"urgent", d.urgent},
      {"engine", d.engine},
      {"engine_version", d.engine_version},
      {"guard", d.guard == Guard::kNone ? bj::value(nullptr) : bj::value(ToString(d.guard))}};
  if (d.held_action) o["held_action"] = ToString(*d.held_action);
  if (d.held_target) o["held_target_pool_id"] = d.held_target->id();
  return o;
}

std::string InputToJson(const DecisionInput& in) {
  return spotopt::json::Serialize(InputObject(in));
}

std::string DecisionToJson(const Decision& d) {
  return spotopt::json::Serialize(DecisionObject(d));
}

absl::StatusOr<Decision> DecisionFromJson(std::string_view text, const DecisionInput& in) {
  absl::StatusOr<bj::object> doc = json::ParseObject(text);
  if (!doc.ok()) return doc.status();
  const bj::object& o = *doc;
  static constexpr std::string_view kKeys[] = {
      "action", "target_pool_id",          "reason",     "message",
      "risk",   "expected_savings_micros", "confidence", "urgent"};
  for (const bj::key_value_pair& kv : o) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return Invalid(key, "unknown field of a decision");
    }
  }
  Decision d;
  absl::StatusOr<Action> action = EnumField<Action>(o, "action");
  if (!action.ok()) return action.status();
  d.action = *action;
  if (o.contains("reason")) {
    absl::StatusOr<Reason> reason = EnumField<Reason>(o, "reason");
    if (!reason.ok()) return reason.status();
    d.reason = *reason;
  }
  absl::StatusOr<std::optional<std::string>> pool_id = json::OptString(o, "target_pool_id");
  if (!pool_id.ok()) return pool_id.status();
  if (*pool_id) {
    absl::StatusOr<Pool> pool = ParsePoolId(**pool_id, in.placement.region);
    if (!pool.ok()) return Invalid("target_pool_id", std::string(pool.status().message()));
    d.target = *std::move(pool);
  }
  absl::StatusOr<std::optional<std::string>> message = json::OptString(o, "message");
  if (!message.ok()) return message.status();
  d.message = SanitizeFreeText(message->value_or(""));
  for (auto [key, out] :
       {std::pair<std::string_view, double*>{"risk", &d.risk}, {"confidence", &d.confidence}}) {
    absl::StatusOr<std::optional<double>> v = json::OptNumber(o, key);
    if (!v.ok()) return v.status();
    if (*v) *out = **v;
  }
  absl::StatusOr<std::optional<int64_t>> savings = json::OptInt(o, "expected_savings_micros");
  if (!savings.ok()) return savings.status();
  d.expected_savings_micros = savings->value_or(0);
  absl::StatusOr<std::optional<bool>> urgent = json::OptBool(o, "urgent");
  if (!urgent.ok()) return urgent.status();
  d.urgent = urgent->value_or(false);
  return d;
}

}  // namespace spotopt::decision
