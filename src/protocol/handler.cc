#include "spotopt/protocol/handler.h"

#include <fmt/format.h>

#include <array>
#include <optional>

#include "common/json_input.h"
#include "common/json_output.h"
#include "protocol/wire.h"

namespace spotopt::protocol {
namespace {

using json::FirstPresent;
using json::OptBool;
using json::OptString;
using json::OptTime;
using json::ParseObject;

// ---- Responses -------------------------------------------------------------

Response Json(int status, const boost::json::value& body) {
  return JsonResponse(status, json::Serialize(body));
}

Response Error(const absl::Status& s) { return ErrorResponse(s); }

// ---- Routing -----------------------------------------------------------------

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view FindHeader(const Request& req, std::string_view name) {
  for (const Header& h : req.headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Path segments arrive raw; decode %XX anyway (section 1.1). A malformed escape is
// kept literally: it then names no record and ends as 404.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;  // after /api/agents/
  std::vector<std::pair<std::string, std::string>> query;
};

std::optional<Target> ParseTarget(std::string_view target) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  constexpr std::string_view kPrefix = "/api/agents/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);  // one trailing slash
  Target t;
  while (true) {
    const size_t slash = path.find('/');
    t.segments.push_back(PercentDecode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const size_t eq = pair.find('=');
      t.query.emplace_back(PercentDecode(pair.substr(0, eq)),
                           eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return t;
}

std::string_view QueryValue(const Target& t, std::string_view key) {
  for (const auto& [k, v] : t.query) {
    if (k == key) return v;
  }
  return {};
}

// The token: the Authorization header's Bearer value, else the body's client_token.
std::string TokenOf(const Request& req, const boost::json::object* body) {
  std::string_view h = FindHeader(req, "authorization");
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  h = trim(h);
  if (h.size() >= 7 && EqualsIgnoreCase(h.substr(0, 7), "bearer "))
    h = trim(h.substr(7));
  else
    h = {};
  if (!h.empty()) return std::string(h);
  if (body) {
    const auto it = body->find("client_token");
    if (it != body->end() && it->value().is_string()) {
      return std::string(trim(std::string_view(it->value().get_string())));
    }
  }
  return {};
}

// Everything a route needs: the tenant, the registration on the path, the body.
struct Call {
  Controller& controller;
  const Tenant& tenant;
  const Target& target;
  const boost::json::object& body;  // empty for GET
};

using RouteFn = Response (*)(Call&);

struct Route {
  std::string_view method;
  std::array<std::string_view, 4> pattern;  // "{}" = an id; "" = end
  std::string_view name;
  RouteFn fn;
};

// ---- Field readers that turn into 400s --------------------------------------------

#define SPOTOPT_TRY(lhs, expr)                         \
  auto lhs##_or = (expr);                              \
  if (!lhs##_or.ok()) return Error(lhs##_or.status()); \
  auto lhs = *std::move(lhs##_or)

// "unknown" and null both mean absent on register (section 4).
absl::StatusOr<std::string> KnownString(const boost::json::object& o, std::string_view key) {
  absl::StatusOr<std::optional<std::string>> s = OptString(o, key);
  if (!s.ok()) return s.status();
  if (!*s || **s == "unknown") return std::string();
  return **s;
}

// A field error from inside a nested object, named by its path in the body
// (`old_instance.mode: ...`), as the Controller names the fields it refuses.
template <typename T>
absl::StatusOr<T> Within(std::string_view path, absl::StatusOr<T> v) {
  if (v.ok() || !absl::IsInvalidArgument(v.status())) return v;
  return absl::InvalidArgumentError(fmt::format("{}.{}", path, std::string(v.status().message())));
}

// ---- Routes ------------------------------------------------------------------------

Response Register(Call& c) {
  RegisterRequest req;
  SPOTOPT_TRY(instance_id, OptString(c.body, "instance_id"));
  SPOTOPT_TRY(region, OptString(c.body, "region"));
  if (!instance_id) return Error(absl::InvalidArgumentError("instance_id: required"));
  if (!region) return Error(absl::InvalidArgumentError("region: required"));
  req.instance_id = *instance_id;
  req.region = *region;
  SPOTOPT_TRY(logical, OptString(c.body, "logical_agent_id"));
  req.logical_id = logical.value_or("");
  for (auto [key, field] :
       {std::pair{"hostname", &req.facts.hostname},
        std::pair{"instance_type", &req.facts.instance_type}, std::pair{"az", &req.facts.az},
        std::pair{"ami_id", &req.facts.ami_id}, std::pair{"private_ip", &req.facts.private_ip},
        std::pair{"public_ip", &req.facts.public_ip},
        std::pair{"agent_version", &req.facts.agent_version}}) {
    SPOTOPT_TRY(value, KnownString(c.body, key));
    *field = std::move(value);
  }
  SPOTOPT_TRY(mode, KnownString(c.body, "mode"));
  if (!mode.empty()) {
    SPOTOPT_TRY(parsed, ParseMode(mode));
    req.facts.mode = parsed;
  }
  SPOTOPT_TRY(result, c.controller.Register(c.tenant.id, req));
  SPOTOPT_TRY(config, c.controller.GetConfigForRegistration(c.tenant.id,
                                                            result.registration.registration.id));
  return Json(result.created ? 201 : 200,
              boost::json::object{{"agent_id", result.registration.registration.id},
                                  {"client_id", c.tenant.id},
                                  {"logical_agent_id", result.agent.logical_id},
                                  {"role", ToString(result.registration.role)},
                                  {"config", ConfigJson(config.config, config.live_replicas)}});
}

const std::string& AgentId(const Call& c) { return c.target.segments[0]; }

Response HeartbeatRoute(Call& c) {
  SPOTOPT_TRY(status_text, OptString(c.body, "status"));
  if (!status_text) return Error(absl::InvalidArgumentError("status: required"));
  SPOTOPT_TRY(status, ParseHeartbeatStatus(*status_text));
  HeartbeatReport report{.status = status};
  SPOTOPT_TRY(instance_id, OptString(c.body, "instance_id"));
  SPOTOPT_TRY(instance_type, OptString(c.body, "instance_type"));
  SPOTOPT_TRY(az, OptString(c.body, "az"));
  report.instance_id = instance_id.value_or("");
  report.instance_type = instance_type.value_or("");
  report.az = az.value_or("");
  SPOTOPT_TRY(config, c.controller.Heartbeat(c.tenant.id, AgentId(c), report));
  return Json(200, boost::json::object{{"success", true}, {"config_version", config.version}});
}

Response ConfigRoute(Call& c) {
  SPOTOPT_TRY(config, c.controller.GetConfigForRegistration(c.tenant.id, AgentId(c)));
  return Json(200, ConfigJson(config.config, config.live_replicas));
}

Response ReplicaConfigRoute(Call& c) {
  SPOTOPT_TRY(config, c.controller.GetConfigForRegistration(c.tenant.id, AgentId(c)));
  return Json(200, boost::json::object{{"enabled", config.config.replica_mode != ReplicaMode::kOff},
                                       {"count", config.live_replicas},
                                       {"mode", ToString(config.config.replica_mode)}});
}

Response PendingCommands(Call& c) {
  SPOTOPT_TRY(command, c.controller.PollCommand(c.tenant.id, AgentId(c)));
  boost::json::array list;
  if (command) list.push_back(CommandJson(*command));
  return Json(200, list);
}

Response Executed(Call& c) {
  SPOTOPT_TRY(success, OptBool(c.body, "success"));
  SPOTOPT_TRY(message, OptString(c.body, FirstPresent(c.body, {"message", "error"})));
  SPOTOPT_TRY(command, c.controller.AckCommand(c.tenant.id, AgentId(c), c.target.segments[2],
                                               success.value_or(true), message.value_or("")));
  return Json(
      200, boost::json::object{
               {"success", true}, {"command_id", command.id}, {"state", ToString(command.state)}});
}

Response ListReplicasRoute(Call& c) {
  const std::string_view status = QueryValue(c.target, "status");
  boost::json::array items;
  if (status == "launching") {
    // The launch-work query: leases what it returns.
    SPOTOPT_TRY(work, c.controller.LeaseReplicaLaunches(c.tenant.id, AgentId(c)));
    for (const Replica& r : work) {
      boost::json::object o = ReplicaJson(r);
      o["status"] = WireStatus(r.state, true);
      items.push_back(std::move(o));
    }
  } else {
    SPOTOPT_TRY(view, c.controller.GetRegistration(c.tenant.id, AgentId(c)));
    SPOTOPT_TRY(replicas, c.controller.ListReplicas(c.tenant.id, view.registration.agent_id));
    const bool include_terminated = QueryValue(c.target, "include_terminated") == "true";
    for (const Replica& r : replicas) {
      const std::string_view wire = WireStatus(r.state, false);
      if (!status.empty() && wire != status) continue;
      if (status.empty() && !include_terminated && !IsLive(r.state)) continue;
      boost::json::object o = ReplicaJson(r);
      o["status"] = wire;
      items.push_back(std::move(o));
    }
  }
  const size_t total = items.size();
  return Json(200, boost::json::object{{"replicas", std::move(items)}, {"total", total}});
}

Response PutReplica(Call& c) {
  SPOTOPT_TRY(instance_id, OptString(c.body, "instance_id"));
  if (!instance_id) return Error(absl::InvalidArgumentError("instance_id: required"));
  SPOTOPT_TRY(status_text, OptString(c.body, "status"));
  SPOTOPT_TRY(status, ParseReplicaReport(status_text.value_or("syncing")));
  SPOTOPT_TRY(replica, c.controller.ReportReplicaInstance(
                           c.tenant.id, AgentId(c), c.target.segments[2], *instance_id, status));
  return Json(200, boost::json::object{{"success", true},
                                       {"replica_id", replica.id},
                                       {"instance_id", replica.instance_id},
                                       {"status", WireStatus(replica.state, false)}});
}

Response ReplicaStatus(Call& c) {
  SPOTOPT_TRY(status_text, OptString(c.body, "status"));
  if (!status_text) return Error(absl::InvalidArgumentError("status: required"));
  SPOTOPT_TRY(status, ParseReplicaReport(*status_text));
  const std::string_view time_key = status == ReplicaReport::kSyncing ? "sync_started_at"
                                    : status == ReplicaReport::kReady ? "sync_completed_at"
                                                                      : "";
  std::optional<Time> at;
  if (!time_key.empty()) {
    SPOTOPT_TRY(t, OptTime(c.body, time_key));
    at = t;
  }
  SPOTOPT_TRY(error, OptString(c.body, FirstPresent(c.body, {"error_message", "error"})));
  SPOTOPT_TRY(replica,
              c.controller.ReportReplicaStatus(c.tenant.id, AgentId(c), c.target.segments[2],
                                               status, at, error.value_or("")));
  return Json(200, boost::json::object{{"success", true},
                                       {"replica_id", replica.id},
                                       {"status", WireStatus(replica.state, false)}});
}

// A price as the wire carries it; the Controller validates the value.
absl::StatusOr<ReportedPrice> PriceField(const boost::json::object& o, std::string_view key) {
  const auto it = o.find(boost::json::string_view(key.data(), key.size()));
  if (it == o.end() || it->value().is_null()) return ReportedPrice();
  const boost::json::value& v = it->value();
  if (v.is_string()) return ReportedPrice(std::string(v.get_string()));
  if (v.is_number()) return ReportedPrice(v.to_number<double>());
  return absl::InvalidArgumentError(fmt::format("{}: must be a price", key));
}

absl::StatusOr<const boost::json::array*> OptArray(const boost::json::object& o,
                                                   std::string_view key) {
  const auto it = o.find(boost::json::string_view(key.data(), key.size()));
  if (it == o.end() || it->value().is_null()) return nullptr;
  if (!it->value().is_array()) {
    return absl::InvalidArgumentError(fmt::format("{}: must be an array", key));
  }
  return &it->value().get_array();
}

std::optional<std::string> StringAt(const boost::json::object& o, std::string_view key) {
  const auto it = o.find(boost::json::string_view(key.data(), key.size()));
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().get_string());
}

Response PricingReportRoute(Call& c) {
  PricingReport report;
  SPOTOPT_TRY(instance, json::OptObject(c.body, "instance"));
  if (instance) {
    SPOTOPT_TRY(type, Within("instance", OptString(*instance, "instance_type")));
    report.instance_type = type.value_or("");
  }
  const std::string_view pricing_key = FirstPresent(c.body, {"pricing", "prices"});
  SPOTOPT_TRY(pricing, json::OptObject(c.body, pricing_key));
  if (!pricing) return Error(absl::InvalidArgumentError("pricing: required"));
  SPOTOPT_TRY(on_demand, Within(pricing_key, PriceField(*pricing, "on_demand_price")));
  SPOTOPT_TRY(current, Within(pricing_key, PriceField(*pricing, "current_spot_price")));
  report.on_demand_price = std::move(on_demand);
  report.current_spot_price = std::move(current);
  SPOTOPT_TRY(collected, Within(pricing_key, OptTime(*pricing, "collected_at")));
  report.collected_at = collected;
  SPOTOPT_TRY(pools, Within(pricing_key, OptArray(*pricing, "spot_pools")));
  if (pools) {
    if (pools->size() > kMaxSpotPools) {
      return Error(absl::InvalidArgumentError("pricing.spot_pools: more than 512 entries"));
    }
    for (size_t i = 0; i < pools->size(); ++i) {
      const std::string field = fmt::format("pricing.spot_pools[{}]", i);
      if (!(*pools)[i].is_object()) {
        return Error(absl::InvalidArgumentError(field + ": must be an object"));
      }
      const boost::json::object& entry = (*pools)[i].get_object();
      SpotPoolPrice pool;
      SPOTOPT_TRY(pool_id, Within(field, OptString(entry, "pool_id")));
      SPOTOPT_TRY(type, Within(field, OptString(entry, "instance_type")));
      SPOTOPT_TRY(az, Within(field, OptString(entry, "az")));
      SPOTOPT_TRY(price, Within(field, PriceField(entry, "price")));
      pool.pool_id = pool_id.value_or("");
      pool.instance_type = type.value_or("");
      pool.az = az.value_or("");
      pool.price = std::move(price);
      report.spot_pools.push_back(std::move(pool));
    }
  }
  SPOTOPT_TRY(ingest, c.controller.ReportPrices(c.tenant.id, AgentId(c), report));
  boost::json::array refused;
  std::string fields;
  for (const RefusedPrice& r : ingest.refused) {
    refused.push_back(boost::json::object{{"field", r.field}, {"reason", ToString(r.reason)}});
    fields += fields.empty() ? r.field : ", " + r.field;
  }
  // Good prices of a report are kept; only a report with nothing usable is an error.
  if (ingest.accepted == 0 && !ingest.refused.empty()) {
    return Error(absl::InvalidArgumentError(fmt::format("{}: not a valid price", fields)));
  }
  boost::json::object out{{"success", true}, {"accepted_observations", ingest.accepted}};
  if (!refused.empty()) out["refused_observations"] = std::move(refused);
  return Json(200, std::move(out));
}

absl::StatusOr<SwitchInstance> SwitchSide(const boost::json::object* o) {
  SwitchInstance side;
  if (!o) return side;
  for (auto [key, field] :
       {std::pair{"instance_id", &side.instance_id},
        std::pair{"instance_type", &side.instance_type}, std::pair{"region", &side.region},
        std::pair{"az", &side.az}, std::pair{"ami_id", &side.ami_id},
        std::pair{"pool_id", &side.pool_id}}) {
    absl::StatusOr<std::string> value = KnownString(*o, key);
    if (!value.ok()) return value.status();
    *field = *std::move(value);
  }
  absl::StatusOr<std::string> mode = KnownString(*o, "mode");
  if (!mode.ok()) return mode.status();
  if (!mode->empty()) {
    absl::StatusOr<Mode> parsed = ParseMode(*mode);
    if (!parsed.ok()) return parsed.status();
    side.mode = *parsed;
  }
  return side;
}

Response SwitchReportRoute(Call& c) {
  SwitchReport report;
  SPOTOPT_TRY(old_side, json::OptObject(c.body, "old_instance"));
  SPOTOPT_TRY(new_side, json::OptObject(c.body, "new_instance"));
  SPOTOPT_TRY(old_instance, Within("old_instance", SwitchSide(old_side)));
  SPOTOPT_TRY(new_instance, Within("new_instance", SwitchSide(new_side)));
  report.old_instance = std::move(old_instance);
  report.new_instance = std::move(new_instance);
  // Section 9: the agent's spellings first, then the previous backend's.
  const std::string_view prices_key = FirstPresent(c.body, {"prices", "pricing"});
  SPOTOPT_TRY(prices, json::OptObject(c.body, prices_key));
  if (prices) {
    const auto price = [&](std::string_view key, std::string_view alias) {
      return Within(prices_key, PriceField(*prices, FirstPresent(*prices, {key, alias})));
    };
    SPOTOPT_TRY(on_demand, price("on_demand", "on_demand_price"));
    SPOTOPT_TRY(old_spot, price("old_spot", "old_spot_price"));
    SPOTOPT_TRY(new_spot, price("new_spot", "new_spot_price"));
    report.on_demand_price = std::move(on_demand);
    report.old_spot_price = std::move(old_spot);
    report.new_spot_price = std::move(new_spot);
  }
  SPOTOPT_TRY(timing, json::OptObject(c.body, "timing"));
  if (timing) {
    // The agent's key, then the previous backend's alias (section 9).
    const struct {
      std::string_view key, alias;
      std::optional<Time>* out;
    } timings[] = {
        {"switch_initiated_at", "initiated_at", &report.timings.initiated_at},
        {"new_instance_launched_at", "instance_launched_at", &report.timings.launched_at},
        {"new_instance_ready_at", "instance_ready_at", &report.timings.ready_at},
        {"traffic_switched_at", "traffic_switched_at", &report.timings.traffic_switched_at},
        {"old_instance_terminated_at", "old_terminated_at", &report.timings.old_terminated_at},
        {"ami_created_at", "ami_created_at", &report.timings.ami_created_at},
    };
    for (const auto& timing_key : timings) {
      const std::string_view key = FirstPresent(*timing, {timing_key.key, timing_key.alias});
      SPOTOPT_TRY(t, Within("timing", OptTime(*timing, key)));
      *timing_key.out = t;
    }
  }
  SPOTOPT_TRY(trigger, OptString(c.body, "trigger"));
  SPOTOPT_TRY(command_id, OptString(c.body, "command_id"));
  report.trigger = trigger.value_or("");
  report.command_id = command_id.value_or("");
  SPOTOPT_TRY(record, c.controller.ReportSwitch(c.tenant.id, AgentId(c), report));
  return Json(200, boost::json::object{{"success", true}, {"switch_id", record.id}});
}

Response CreateReplicaRoute(Call& c) {
  ReplicaInstanceReport report;
  SPOTOPT_TRY(instance_id, OptString(c.body, "instance_id"));
  if (!instance_id) return Error(absl::InvalidArgumentError("instance_id: required"));
  report.instance_id = *instance_id;
  SPOTOPT_TRY(parent, OptString(c.body, "parent_instance_id"));
  SPOTOPT_TRY(pool_id, OptString(c.body, "pool_id"));
  SPOTOPT_TRY(type, OptString(c.body, "replica_type"));
  SPOTOPT_TRY(status_text, OptString(c.body, "status"));
  report.parent_instance_id = parent.value_or("");
  report.pool_id = pool_id.value_or("");
  if (type) report.replica_type = *type;
  SPOTOPT_TRY(status, ParseReplicaReport(status_text.value_or("launching")));
  report.status = status;
  SPOTOPT_TRY(binding, c.controller.ReportReplicaLaunch(c.tenant.id, AgentId(c), report));
  const Replica& r = binding.replica;
  return Json(binding.created ? 201 : 200,
              boost::json::object{{"success", true},
                                  {"replica_id", r.id},
                                  {"instance_id", r.instance_id},
                                  {"pool_id", r.pool.id()},
                                  {"status", WireStatus(r.state, false)}});
}

// The signal body shared by the three interruption routes. A termination time that
// cannot be parsed falls back to receive time + 120 s (section 5.13), so it is
// dropped here rather than refused.
absl::StatusOr<SignalReport> SignalOf(const boost::json::object& body,
                                      std::optional<Signal> signal) {
  SignalReport report;
  if (signal) {
    report.signal = *signal;
  } else {
    absl::StatusOr<std::optional<std::string>> type = OptString(body, "signal_type");
    if (!type.ok()) return type.status();
    if (!*type) return absl::InvalidArgumentError("signal_type: required");
    absl::StatusOr<Signal> parsed = ParseSignal(**type);
    if (!parsed.ok()) return parsed.status();
    report.signal = *parsed;
  }
  absl::StatusOr<std::optional<std::string>> instance = OptString(body, "instance_id");
  if (!instance.ok()) return instance.status();
  report.instance_id = instance->value_or("");
  if (std::optional<std::string> t = StringAt(body, "termination_time")) {
    if (absl::StatusOr<Time> parsed = ParseTimestamp(*t); parsed.ok()) report.notice_time = *parsed;
  }
  absl::StatusOr<std::optional<Time>> detected = OptTime(body, "detected_at");
  if (!detected.ok()) return detected.status();
  report.detected_at = *detected;
  return report;
}

Response EmergencyReplicaRoute(Call& c) {
  SPOTOPT_TRY(signal, SignalOf(c.body, std::nullopt));
  SPOTOPT_TRY(result, c.controller.CreateEmergencyReplica(c.tenant.id, AgentId(c), signal));
  boost::json::object o{{"success", result.success}, {"incident_id", result.incident_id}};
  if (!result.success) o["error"] = result.error;
  if (!result.message.empty()) o["message"] = result.message;
  if (!result.urgency.empty()) o["urgency"] = result.urgency;
  if (result.replica) {
    const Replica& r = *result.replica;
    o["replica_id"] = r.id;
    o["replica_instance_id"] =
        r.instance_id.empty() ? boost::json::value(nullptr) : boost::json::value(r.instance_id);
    o["instance_id"] = o["replica_instance_id"];
    o["status"] = WireStatus(r.state, r.state == ReplicaState::kRequested);
    o["pool_id"] = r.pool.id();
    o["az"] = r.pool.az;
  }
  return Json(result.created ? 201 : 200, o);
}

Response TerminationRoute(Call& c) {
  SPOTOPT_TRY(signal, SignalOf(c.body, Signal::kTerminationNotice));
  SPOTOPT_TRY(result, c.controller.TerminationImminent(c.tenant.id, AgentId(c), signal));
  boost::json::object o{{"success", result.success},
                        {"action", result.action},
                        {"incident_id", result.incident_id},
                        {"deadline", TimeJson(result.deadline)}};
  if (result.success) {
    o["message"] = result.message;
    o["new_instance_id"] = result.new_instance_id;
  } else {
    o["error"] = result.error;
  }
  if (!result.replica_id.empty()) o["replica_id"] = result.replica_id;
  if (result.forced) o["forced"] = true;
  return Json(200, o);
}

Response RebalanceRoute(Call& c) {
  SPOTOPT_TRY(signal, SignalOf(c.body, Signal::kRebalanceRecommendation));
  SPOTOPT_TRY(result, c.controller.RebalanceRecommendation(c.tenant.id, AgentId(c), signal));
  boost::json::object o{{"success", true},
                        {"action", result.action},
                        {"reason", result.reason},
                        {"incident_id", result.incident_id}};
  if (!result.replica_id.empty()) o["replica_id"] = result.replica_id;
  if (result.command) {
    o["command_id"] = result.command->id;
    o["target_mode"] = ToString(result.command->target_mode);
    o["target_pool_id"] = result.command->target_pool_id
                              ? boost::json::value(*result.command->target_pool_id)
                              : boost::json::value(nullptr);
  }
  return Json(200, o);
}

absl::StatusOr<std::vector<std::string>> IdList(const boost::json::object& o,
                                                std::string_view key) {
  std::vector<std::string> ids;
  absl::StatusOr<const boost::json::array*> list = OptArray(o, key);
  if (!list.ok()) return list.status();
  if (!*list) return ids;
  for (const boost::json::value& v : **list) {
    if (!v.is_string()) return absl::InvalidArgumentError(fmt::format("{}: ids are strings", key));
    ids.emplace_back(v.get_string());
  }
  return ids;
}

// One section of a cleanup report: `snapshots` or `amis` (section 5.15).
absl::StatusOr<CleanupSection> ReadCleanupSection(const boost::json::object& o, bool snapshots) {
  CleanupSection section;
  absl::StatusOr<std::vector<std::string>> deleted =
      IdList(o, snapshots ? "deleted" : "deleted_amis");
  if (!deleted.ok()) return deleted.status();
  absl::StatusOr<std::vector<std::string>> deleted_snapshots =
      IdList(o, snapshots ? "" : "deleted_snapshots");
  if (!deleted_snapshots.ok()) return deleted_snapshots.status();
  if (snapshots) {
    section.deleted_snapshots = *std::move(deleted);
  } else {
    section.deleted_amis = *std::move(deleted);
    section.deleted_snapshots = *std::move(deleted_snapshots);
  }
  absl::StatusOr<const boost::json::array*> failed = OptArray(o, "failed");
  if (!failed.ok()) return failed.status();
  if (*failed) {
    for (const boost::json::value& v : **failed) {
      if (!v.is_object()) return absl::InvalidArgumentError("failed: entries are objects");
      section.failed.push_back(CleanupFailure{StringAt(v.get_object(), "id").value_or(""),
                                              StringAt(v.get_object(), "error").value_or("")});
    }
  }
  absl::StatusOr<std::optional<Time>> cutoff = OptTime(o, "cutoff_date");
  if (!cutoff.ok()) return cutoff.status();
  section.cutoff = *cutoff;
  section.error = StringAt(o, "error").value_or("");
  return section;
}

absl::StatusOr<std::optional<CleanupSection>> CleanupSectionOf(const boost::json::object& body,
                                                               std::string_view key) {
  absl::StatusOr<const boost::json::object*> o = json::OptObject(body, key);
  if (!o.ok()) return o.status();
  if (!*o) return std::optional<CleanupSection>();
  absl::StatusOr<CleanupSection> section = Within(key, ReadCleanupSection(**o, key == "snapshots"));
  if (!section.ok()) return section.status();
  return std::optional<CleanupSection>(*std::move(section));
}

Response CleanupRoute(Call& c) {
  CleanupReport report;
  SPOTOPT_TRY(snapshots, CleanupSectionOf(c.body, "snapshots"));
  SPOTOPT_TRY(amis, CleanupSectionOf(c.body, "amis"));
  SPOTOPT_TRY(timestamp, OptTime(c.body, "timestamp"));
  report.snapshots = std::move(snapshots);
  report.amis = std::move(amis);
  report.timestamp = timestamp;
  SPOTOPT_TRY(result, c.controller.ReportCleanup(c.tenant.id, AgentId(c), report));
  return Json(200, boost::json::object{{"success", true},
                                       {"deleted_snapshots", result.deleted_snapshots},
                                       {"deleted_amis", result.deleted_amis},
                                       {"failed_count", result.failed}});
}

Response PromoteRoute(Call& c) {
  // Section 5.16: the manual promotion, allowed only from the primary registration.
  SPOTOPT_TRY(view, c.controller.GetRegistration(c.tenant.id, AgentId(c)));
  if (view.role != Role::kPrimary) {
    return Error(absl::FailedPreconditionError("only the primary may promote its replica"));
  }
  SPOTOPT_TRY(replica, c.controller.PromoteReplica(c.tenant.id, view.registration.agent_id,
                                                   c.target.segments[2]));
  return Json(200, boost::json::object{{"success", true},
                                       {"replica_id", replica.id},
                                       {"new_instance_id", replica.instance_id},
                                       {"status", WireStatus(replica.state, false)}});
}

constexpr std::string_view kId = "{}";
const Route kRoutes[] = {
    {"POST", {"register"}, "/api/agents/register", Register},
    {"POST", {kId, "heartbeat"}, "/api/agents/{id}/heartbeat", HeartbeatRoute},
    {"GET", {kId, "config"}, "/api/agents/{id}/config", ConfigRoute},
    {"GET", {kId, "replica-config"}, "/api/agents/{id}/replica-config", ReplicaConfigRoute},
    {"GET", {kId, "pending-commands"}, "/api/agents/{id}/pending-commands", PendingCommands},
    {"POST",
     {kId, "commands", kId, "executed"},
     "/api/agents/{id}/commands/{id}/executed",
     Executed},
    {"GET", {kId, "replicas"}, "/api/agents/{id}/replicas", ListReplicasRoute},
    {"PUT", {kId, "replicas", kId}, "/api/agents/{id}/replicas/{id}", PutReplica},
    {"POST",
     {kId, "replicas", kId, "status"},
     "/api/agents/{id}/replicas/{id}/status",
     ReplicaStatus},
    {"POST", {kId, "replicas"}, "/api/agents/{id}/replicas", CreateReplicaRoute},
    {"POST",
     {kId, "replicas", kId, "promote"},
     "/api/agents/{id}/replicas/{id}/promote",
     PromoteRoute},
    {"POST", {kId, "pricing-report"}, "/api/agents/{id}/pricing-report", PricingReportRoute},
    {"POST", {kId, "switch-report"}, "/api/agents/{id}/switch-report", SwitchReportRoute},
    {"POST",
     {kId, "create-emergency-replica"},
     "/api/agents/{id}/create-emergency-replica",
     EmergencyReplicaRoute},
    {"POST",
     {kId, "termination-imminent"},
     "/api/agents/{id}/termination-imminent",
     TerminationRoute},
    {"POST",
     {kId, "rebalance-recommendation"},
     "/api/agents/{id}/rebalance-recommendation",
     RebalanceRoute},
    {"POST", {kId, "cleanup-report"}, "/api/agents/{id}/cleanup-report", CleanupRoute},
};

bool Matches(const Route& r, const Target& t) {
  size_t n = 0;
  while (n < r.pattern.size() && !r.pattern[n].empty()) ++n;
  if (t.segments.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (r.pattern[i] != kId && r.pattern[i] != t.segments[i]) return false;
    if (r.pattern[i] == kId && t.segments[i].empty()) return false;
  }
  return true;
}

}  // namespace

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

Response ErrorResponse(int http_status, std::string_view code, std::string_view message) {
  Response r = JsonResponse(
      http_status, json::Serialize(boost::json::object{{"error", code}, {"message", message}}));
  if (http_status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response ErrorResponse(const absl::Status& s) {
  const auto [status, code] = [&]() -> std::pair<int, std::string_view> {
    switch (s.code()) {
      case absl::StatusCode::kInvalidArgument:
        return {400, "invalid_argument"};
      case absl::StatusCode::kUnauthenticated:
        return {401, "unauthenticated"};
      case absl::StatusCode::kPermissionDenied:
        return {403, "permission_denied"};
      case absl::StatusCode::kNotFound:
        return {404, "not_found"};
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kAlreadyExists:
      case absl::StatusCode::kAborted:
        return {409, "failed_precondition"};
      case absl::StatusCode::kOutOfRange:
        return {413, "payload_too_large"};
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kDeadlineExceeded:
        return {503, "unavailable"};
      default:
        return {500, "internal"};
    }
  }();
  return ErrorResponse(status, code, std::string(s.message()));
}

Response AgentProtocol::Handle(const Request& request) {
  Response response = [&]() -> Response {
    const std::optional<Target> target = ParseTarget(request.target);
    if (!target) return Error(absl::NotFoundError("unknown route"));
    std::string allow;
    const Route* route = nullptr;
    for (const Route& r : kRoutes) {
      if (!Matches(r, *target)) continue;
      if (r.method == request.method) {
        route = &r;
        break;
      }
      allow += allow.empty() ? std::string(r.method) : fmt::format(", {}", r.method);
    }
    if (!route) {
      if (allow.empty()) return Error(absl::NotFoundError("unknown route"));
      Response r = ErrorResponse(405, "method_not_allowed", "method not allowed");
      r.headers.emplace_back("Allow", allow);
      return r;
    }

    // GETs carry no body whatever their Content-Type says; POST and PUT bodies are
    // JSON whatever it says.
    boost::json::object body;
    if (route->method != "GET") {
      absl::StatusOr<boost::json::object> parsed = ParseObject(request.body);
      if (!parsed.ok()) return Error(parsed.status());
      body = *std::move(parsed);
    }
    absl::StatusOr<Tenant> tenant =
        controller_.Authenticate(TokenOf(request, route->method == "GET" ? nullptr : &body));
    if (!tenant.ok()) return Error(tenant.status());
    body.erase("client_token");  // never kept past authentication

    Call call{controller_, *tenant, *target, body};
    Response r = route->fn(call);
    r.route = route->name;
    return r;
  }();
  return response;
}

}  // namespace spotopt::protocol
