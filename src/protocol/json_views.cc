#include "protocol/json_views.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/json_input.h"
#include "protocol/wire.h"

namespace spotopt::protocol {
namespace {

// Ids that are not set yet are null, not "".
boost::json::value IdOrNull(const std::string& id) {
  if (id.empty()) return nullptr;
  return boost::json::string(id);
}

// Prices are JSON numbers in USD per hour (protocol section 1.4); unknown is null.
boost::json::value PriceOrNull(const std::optional<Money>& m) {
  if (!m) return nullptr;
  return m->usd();
}

boost::json::object PlacementJson(const Placement& p) {
  return {{"instance_id", p.instance_id},
          {"instance_type", p.instance_type},
          {"region", p.region},
          {"az", p.az},
          {"mode", ToString(p.mode)},
          {"pool_id", p.pool() ? boost::json::value(p.pool()->id()) : nullptr}};
}

boost::json::object RegistrationJson(const RegistrationView& v) {
  const Registration& r = v.registration;
  return {{"agent_id", r.id},
          {"instance_id", r.instance_id},
          {"role", ToString(v.role)},
          {"liveness", ToString(v.liveness)},
          {"instance_state", ToString(r.instance_state)},
          {"last_status", ToString(r.last_status)},
          {"last_seen_at", FormatTimestamp(r.last_seen_at)},
          {"created_at", FormatTimestamp(r.created_at)},
          {"hostname", r.facts.hostname},
          {"instance_type", r.facts.instance_type},
          {"az", r.facts.az},
          {"agent_version", r.facts.agent_version}};
}

absl::StatusOr<std::optional<Priority>> OptPriority(const boost::json::object& body) {
  absl::StatusOr<std::optional<int64_t>> value = json::OptInt(body, "priority");
  if (!value.ok()) return value.status();
  if (!*value) return std::nullopt;
  absl::StatusOr<Priority> priority = PriorityFromInt(**value);
  if (!priority.ok()) return priority.status();
  return *priority;
}

}  // namespace

boost::json::object TenantJson(const Tenant& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"state", ToString(t.state)},
          {"created_at", FormatTimestamp(t.created_at)},
          {"updated_at", FormatTimestamp(t.updated_at)}};
}

boost::json::object ConfigRecordJson(const AgentConfig& c) {
  boost::json::object o = ConfigJson(c, 0);
  o.erase("replica_count");  // the agent view carries live_replicas once
  return o;
}

boost::json::object AgentJson(const AgentView& v) {
  const Agent& a = v.agent;
  return {{"id", a.id},
          {"logical_agent_id", a.logical_id},
          {"lifecycle", ToString(a.lifecycle)},
          {"enabled", a.config.enabled},
          {"liveness", ToString(v.liveness)},
          {"placement", PlacementJson(a.placement)},
          {"placement_since", FormatTimestamp(a.placement_since)},
          {"live_replicas", v.live_replicas},
          {"fallback_identity", a.fallback_identity},
          {"config", ConfigRecordJson(a.config)},
          {"registrations", JsonArray(v.registrations, RegistrationJson)},
          {"created_at", FormatTimestamp(a.created_at)},
          {"updated_at", FormatTimestamp(a.updated_at)}};
}

boost::json::object CommandRecordJson(const Command& c) {
  boost::json::object o = CommandJson(c);
  o["agent_id"] = c.agent_id;
  o["lease_holder"] = IdOrNull(c.lease_holder);
  o["state"] = ToString(c.state);
  o["requested_by"] = c.requested_by;
  o["override_limits"] = c.override_limits;
  o["leased_at"] = TimeJson(c.leased_at);
  o["lease_expires_at"] = TimeJson(c.lease_expires_at);
  o["closed_at"] = TimeJson(c.closed_at);
  o["result_message"] = c.result_message;
  return o;
}

boost::json::object ReplicaRecordJson(const Replica& r) {
  boost::json::object o = ReplicaJson(r);
  o["agent_id"] = r.agent_id;
  o["state"] = ToString(r.state);
  o["launch_path"] = ToString(r.launch_path);
  o["command_id"] = IdOrNull(r.command_id);
  o["incident_id"] = IdOrNull(r.incident_id);
  o["forced_promotion"] = r.forced_promotion;
  o["error"] = r.error;
  o["updated_at"] = FormatTimestamp(r.updated_at);
  // The state history, for timelines: every state, null where never entered.
  boost::json::object entered;
  for (int k = 0; k < kReplicaStateCount; ++k) {
    entered[ToString(static_cast<ReplicaState>(k))] = TimeJson(r.entered_at[k]);
  }
  o["entered_at"] = std::move(entered);
  return o;
}

boost::json::object IncidentJson(const Incident& i) {
  const bool pool_known = !i.pool.az.empty() && !i.pool.instance_type.empty();
  return {{"id", i.id},
          {"agent_id", i.agent_id},
          {"instance_id", i.instance_id},
          {"pool_id", pool_known ? boost::json::value(i.pool.id()) : nullptr},
          {"signal", ToString(i.signal)},
          {"notice_time", FormatTimestamp(i.notice_time)},
          {"deadline", TimeJson(i.deadline)},
          {"first_seen", FormatTimestamp(i.first_seen)},
          {"last_seen", FormatTimestamp(i.last_seen)},
          {"repeat_count", i.repeat_count},
          {"closed_at", TimeJson(i.closed_at)},
          {"detected_at", TimeJson(i.detected_at)},
          {"decided_at", TimeJson(i.decided_at)},
          {"promoted_at", TimeJson(i.promoted_at)},
          {"healthy_at", TimeJson(i.healthy_at)},
          {"decision", i.decision},
          {"replica_id", i.replica_id},
          {"command_id", i.command_id}};
}

boost::json::object EventJson(const AgentEvent& e) {
  return {{"id", e.id},
          {"agent_id", e.agent_id},
          {"kind", ToString(e.kind)},
          {"instance_id", e.instance_id},
          {"detail", e.detail},
          {"at", FormatTimestamp(e.at)}};
}

boost::json::object SwitchJson(const SwitchRecord& s) {
  const SwitchTimings& t = s.timings;
  return {{"id", s.id},
          {"agent_id", s.agent_id},
          {"old_instance", PlacementJson(s.from)},
          {"new_instance", PlacementJson(s.to)},
          {"command_id", IdOrNull(s.command_id)},
          {"reason", s.reason},
          {"requested_by", s.requested_by},
          {"trigger", s.trigger},
          {"prices",
           {{"on_demand", PriceOrNull(s.on_demand_price)},
            {"old_spot", PriceOrNull(s.old_spot_price)},
            {"new_spot", PriceOrNull(s.new_spot_price)}}},
          {"timing",
           {{"switch_initiated_at", TimeJson(t.initiated_at)},
            {"new_instance_launched_at", TimeJson(t.launched_at)},
            {"new_instance_ready_at", TimeJson(t.ready_at)},
            {"traffic_switched_at", TimeJson(t.traffic_switched_at)},
            {"old_instance_terminated_at", TimeJson(t.old_terminated_at)},
            {"ami_created_at", TimeJson(t.ami_created_at)}}},
          {"unsolicited", s.unsolicited},
          {"reported", s.reported},
          {"created_at", FormatTimestamp(s.created_at)},
          {"updated_at", FormatTimestamp(s.updated_at)}};
}

namespace {

boost::json::value MicrosOrNull(const std::optional<Money>& m) {
  if (!m) return nullptr;
  return m->micros();
}

// Sets key and key_micros for an optional amount.
void PutMoney(boost::json::object& o, std::string_view key, const std::optional<Money>& m) {
  o[key] = PriceOrNull(m);
  o[fmt::format("{}_micros", key)] = MicrosOrNull(m);
}

std::string PoolIdOrEmpty(const Pool& p) { return p.az.empty() ? "" : p.id(); }

}  // namespace

boost::json::object PriceObservationJson(const PriceObservation& o) {
  boost::json::object out{{"seq", o.seq},
                          {"region", o.region},
                          {"az", o.az},
                          {"instance_type", o.instance_type},
                          {"kind", ToString(o.kind)},
                          {"source", ToString(o.source)},
                          {"agent_id", IdOrNull(o.agent_id)},
                          {"observed_at", FormatTimestamp(o.observed_at)},
                          {"received_at", FormatTimestamp(o.received_at)},
                          {"server_received", o.server_received}};
  PutMoney(out, "price", o.price);
  return out;
}

boost::json::object CleanPointJson(const sef::CleanPoint& p) {
  boost::json::object out{{"bucket_start", FormatTimestamp(FromMicros(p.start_us))},
                          {"source", ToString(p.source)},
                          {"confidence", p.confidence},
                          {"discrepancy", p.discrepancy}};
  PutMoney(out, "price", Money::FromMicros(p.price_micros));
  return out;
}

boost::json::object GapJson(const sef::Gap& g) {
  return {{"after", FormatTimestamp(FromMicros(g.after_us))},
          {"before", FormatTimestamp(FromMicros(g.before_us))},
          {"missing_buckets", g.missing_buckets},
          {"filled", g.filled}};
}

boost::json::object LatestPriceJson(const LatestPrice& l) {
  boost::json::object out{{"region", l.pool.region},
                          {"az", l.pool.az},
                          {"instance_type", l.pool.instance_type},
                          {"pool_id", IdOrNull(PoolIdOrEmpty(l.pool))},
                          {"source", ToString(l.point.source)},
                          {"observed_at", FormatTimestamp(l.observed_at)},
                          {"age_seconds", absl::ToInt64Seconds(l.age)}};
  PutMoney(out, "price", Money::FromMicros(l.point.price_micros));
  return out;
}

boost::json::object MarketJson(const MarketView& m) {
  boost::json::array pools;
  for (const MarketPool& p : m.pools) {
    pools.push_back(boost::json::object{
        {"pool_id", p.pool.id()},
        {"az", p.pool.az},
        {"latest", p.latest ? boost::json::value(LatestPriceJson(*p.latest)) : nullptr},
        {"volatility_hour", p.volatility_hour},
        {"volatility_day", p.volatility_day},
        {"terminations", p.terminations},
        {"rebalances", p.rebalances},
        {"risk", p.risk}});
  }
  boost::json::value advisor = nullptr;
  if (m.advisor) {
    advisor = boost::json::object{{"band", m.advisor->band.index},
                                  {"interruption_frequency", m.advisor->band.label},
                                  {"savings_percent", m.advisor->savings_percent}};
  }
  return {{"region", m.region},
          {"instance_type", m.instance_type},
          {"pools", std::move(pools)},
          {"on_demand", m.on_demand ? boost::json::value(LatestPriceJson(*m.on_demand)) : nullptr},
          {"advisor", std::move(advisor)}};
}

boost::json::object FiguresJson(const ledger::Figures& f) {
  boost::json::object out{{"start", FormatTimestamp(f.start)},
                          {"end", FormatTimestamp(f.end)},
                          {"run_seconds", absl::FDivDuration(f.run, absl::Seconds(1))},
                          {"downtime_seconds", absl::FDivDuration(f.downtime, absl::Seconds(1))}};
  PutMoney(out, "cost", f.cost);
  PutMoney(out, "baseline", f.baseline);
  PutMoney(out, "savings", f.savings);
  return out;
}

boost::json::object CostIntervalJson(const ledger::CostInterval& i) {
  boost::json::object out{
      {"agent_id", i.agent_id},
      {"instance_id", i.instance_id},
      {"role", ToString(i.role)},
      {"kind", ToString(i.kind)},
      {"mode", ToString(i.placement.mode)},
      {"pool_id", i.placement.pool() ? boost::json::value(i.placement.pool()->id()) : nullptr},
      {"start", FormatTimestamp(i.start)},
      {"end", FormatTimestamp(i.end)}};
  PutMoney(out, "actual", i.actual);
  PutMoney(out, "baseline", i.baseline);
  return out;
}

absl::StatusOr<std::vector<CatalogPrice>> CatalogPricesFromJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options opt;
  opt.max_depth = 4;
  const boost::json::value doc = boost::json::parse(text, ec, {}, opt);
  if (ec) return absl::InvalidArgumentError(fmt::format("prices: {}", ec.message()));
  if (!doc.is_array()) return absl::InvalidArgumentError("prices: must be an array");
  std::vector<CatalogPrice> out;
  const boost::json::array& rows = doc.get_array();
  for (size_t k = 0; k < rows.size(); ++k) {
    const std::string field = fmt::format("prices[{}]", k);
    if (!rows[k].is_object()) return absl::InvalidArgumentError(field + ": must be an object");
    const boost::json::object& row = rows[k].get_object();
    if (absl::Status s = CheckKeys(row, {"region", "az", "instance_type", "price", "at"});
        !s.ok()) {
      return absl::InvalidArgumentError(fmt::format("{}: {}", field, std::string(s.message())));
    }
    CatalogPrice p;
    for (auto [key, target] : {std::pair{"region", &p.pool.region}, std::pair{"az", &p.pool.az},
                               std::pair{"instance_type", &p.pool.instance_type}}) {
      absl::StatusOr<std::optional<std::string>> v = json::OptString(row, key);
      if (!v.ok())
        return absl::InvalidArgumentError(
            fmt::format("{}.{}", field, std::string(v.status().message())));
      *target = v->value_or("");
    }
    absl::StatusOr<std::optional<Money>> price = json::OptPrice(row, "price");
    if (!price.ok())
      return absl::InvalidArgumentError(
          fmt::format("{}.{}", field, std::string(price.status().message())));
    if (!*price) return absl::InvalidArgumentError(field + ".price: required");
    p.price = **price;
    absl::StatusOr<std::optional<Time>> at = json::OptTime(row, "at");
    if (!at.ok())
      return absl::InvalidArgumentError(
          fmt::format("{}.{}", field, std::string(at.status().message())));
    if (!*at) return absl::InvalidArgumentError(field + ".at: required");
    p.at = **at;
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status CheckKeys(const boost::json::object& body,
                       std::initializer_list<std::string_view> keys) {
  for (const auto& kv : body) {
    if (std::find(keys.begin(), keys.end(), std::string_view(kv.key())) == keys.end()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: unknown field", std::string_view(kv.key())));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SwitchRequest> SwitchRequestFromJson(const boost::json::object& body) {
  if (absl::Status s = CheckKeys(
          body, {"target_mode", "target_pool_id", "reason", "override_limits", "ttl_seconds",
                 "priority", "expected_savings_percent", "target_risk", "requested_by"});
      !s.ok()) {
    return s;
  }
  SwitchRequest request;
  absl::StatusOr<std::optional<std::string>> mode_text = json::OptString(body, "target_mode");
  if (!mode_text.ok()) return mode_text.status();
  if (!*mode_text) return absl::InvalidArgumentError("target_mode: required");
  absl::StatusOr<Mode> mode = ParseMode(**mode_text);
  if (!mode.ok()) return mode.status();
  request.target_mode = *mode;

  absl::StatusOr<std::optional<std::string>> pool = json::OptString(body, "target_pool_id");
  absl::StatusOr<std::optional<std::string>> reason = json::OptString(body, "reason");
  absl::StatusOr<std::optional<std::string>> by = json::OptString(body, "requested_by");
  absl::StatusOr<std::optional<bool>> override_limits = json::OptBool(body, "override_limits");
  absl::StatusOr<std::optional<int64_t>> ttl_seconds = json::OptInt(body, "ttl_seconds");
  absl::StatusOr<std::optional<Priority>> priority = OptPriority(body);
  absl::StatusOr<std::optional<double>> savings = json::OptNumber(body, "expected_savings_percent");
  absl::StatusOr<std::optional<double>> risk = json::OptNumber(body, "target_risk");
  for (const absl::Status& s :
       {pool.status(), reason.status(), by.status(), override_limits.status(), ttl_seconds.status(),
        priority.status(), savings.status(), risk.status()}) {
    if (!s.ok()) return s;
  }
  request.target_pool_id = pool->value_or("");
  request.reason = reason->value_or("operator request");
  request.requested_by = by->value_or("");
  request.override_limits = override_limits->value_or(false);
  request.priority = priority->value_or(Priority::kManual);
  request.expected_savings_percent = *savings;
  request.target_risk = *risk;
  if (*ttl_seconds) {
    if (**ttl_seconds <= 0) return absl::InvalidArgumentError("ttl_seconds: must be > 0");
    request.ttl = absl::Seconds(**ttl_seconds);
  }
  return request;
}

absl::StatusOr<ReplicaRequest> ReplicaRequestFromJson(const boost::json::object& body) {
  if (absl::Status s = CheckKeys(body, {"pool_id", "replica_type", "requested_by"}); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::optional<std::string>> pool = json::OptString(body, "pool_id");
  absl::StatusOr<std::optional<std::string>> type = json::OptString(body, "replica_type");
  absl::StatusOr<std::optional<std::string>> by = json::OptString(body, "requested_by");
  for (const absl::Status& s : {pool.status(), type.status(), by.status()}) {
    if (!s.ok()) return s;
  }
  return ReplicaRequest{.pool_id = pool->value_or(""),
                        .replica_type = type->value_or("manual"),
                        .requested_by = by->value_or("")};
}

}  // namespace spotopt::protocol
