#include "admin_api.h"

#include <fmt/format.h>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <array>
#include <charconv>
#include <initializer_list>

#include <strings.h>

#include "common/json_input.h"
#include "common/json_output.h"
#include "fleet_query.h"
#include "headers.h"
#include "log.h"
#include "model_files.h"
#include "protocol/decision_views.h"
#include "protocol/json_views.h"

namespace spotopt::server {
namespace {

using protocol::AgentJson;
using protocol::CheckKeys;
using protocol::CommandRecordJson;
using protocol::ConfigRecordJson;
using protocol::ErrorResponse;
using protocol::EventJson;
using protocol::IncidentJson;
using protocol::ReplicaRecordJson;
using protocol::Response;
using protocol::TenantJson;

Response JsonResponse(int status, const boost::json::value& body) {
  return protocol::JsonResponse(status, json::Serialize(body));
}

#define SPOTOPT_ADMIN_TRY(lhs, expr)                           \
  auto lhs##_or = (expr);                                      \
  if (!lhs##_or.ok()) return ErrorResponse(lhs##_or.status()); \
  auto lhs = *std::move(lhs##_or)

#define SPOTOPT_ADMIN_CHECK(expr)         \
  if (absl::Status s = (expr); !s.ok()) { \
    return ErrorResponse(s);              \
  }

// Everything a route needs. Path segments count from after /api/admin/:
// tenants/{tenant}/agents/{agent}/<collection>/{item}.
struct Call {
  Controller& controller;
  const std::vector<std::string>& segments;
  const boost::json::object& body;
  std::string_view raw_body;
  const boost::urls::params_view& query;  // decoded keys and values
  const std::string& requested_by;

  const std::string& tenant() const { return segments[1]; }
  const std::string& agent() const { return segments[3]; }
  const std::string& item() const { return segments[5]; }
};

using RouteFn = Response (*)(Call&);

struct Route {
  std::string_view method;
  std::array<std::string_view, 7> pattern;  // "{}" = an id; "" = end
  std::string_view name;
  RouteFn fn;
  // The body goes to ParseConfigPatchJson as text instead of being read here.
  bool raw_body = false;
};

absl::StatusOr<std::string> RequiredString(const boost::json::object& body, std::string_view key) {
  absl::StatusOr<std::optional<std::string>> s = json::OptString(body, key);
  if (!s.ok()) return s.status();
  if (!*s) return absl::InvalidArgumentError(fmt::format("{}: required", key));
  return **s;
}

// The first value of `key`, percent-decoded; empty when absent.
std::string QueryValue(const boost::urls::params_view& query, std::string_view key) {
  auto it = query.find(key);
  return it == query.end() ? std::string() : (*it).value;
}

template <typename T, typename ToJson>
boost::json::object ListJson(std::string_view key, const std::vector<T>& items, ToJson to_json) {
  return {{key, protocol::JsonArray(items, to_json)}, {"total", items.size()}};
}

// ---- Tenants ---------------------------------------------------------------

Response ListTenants(Call& c) {
  SPOTOPT_ADMIN_TRY(tenants, c.controller.ListTenants());
  return JsonResponse(200, ListJson("tenants", tenants, TenantJson));
}

Response CreateTenant(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"name"}));
  SPOTOPT_ADMIN_TRY(name, RequiredString(c.body, "name"));
  SPOTOPT_ADMIN_TRY(created, c.controller.CreateTenant(name));
  return JsonResponse(201, {{"tenant", TenantJson(created.tenant)}, {"token", created.token}});
}

Response GetTenant(Call& c) {
  SPOTOPT_ADMIN_TRY(tenant, c.controller.GetTenant(c.tenant()));
  return JsonResponse(200, TenantJson(tenant));
}

// Suspend, reactivate, delete: the transition, then the tenant as it now is.
template <absl::Status (Controller::*kTransition)(std::string_view)>
Response TenantTransition(Call& c) {
  SPOTOPT_ADMIN_CHECK((c.controller.*kTransition)(c.tenant()));
  return GetTenant(c);
}

Response RotateToken(Call& c) {
  SPOTOPT_ADMIN_TRY(token, c.controller.RotateToken(c.tenant()));
  return JsonResponse(200, {{"tenant_id", c.tenant()}, {"token", token}});
}

// ---- Agents and config -------------------------------------------------------

// The agent view plus its live replica (null if none), which an operator looks for
// first; read only for agents that have one.
absl::StatusOr<boost::json::object> AgentWithReplicaJson(Call& c, const AgentView& v) {
  boost::json::object out = AgentJson(v);
  out["live_replica"] = nullptr;
  if (v.live_replicas == 0) return out;
  absl::StatusOr<std::vector<Replica>> replicas = c.controller.ListReplicas(c.tenant(), v.agent.id);
  if (!replicas.ok()) return replicas.status();
  for (const Replica& r : *replicas) {
    if (IsLive(r.state)) out["live_replica"] = ReplicaRecordJson(r);
  }
  return out;
}

// Every agent, or a filtered, sorted page of them (fleet_query.h); `summary` counts
// the whole fleet either way.
Response ListAgents(Call& c) {
  SPOTOPT_ADMIN_TRY(query, ParseFleetQuery(c.query));
  SPOTOPT_ADMIN_TRY(agents, c.controller.ListAgents(c.tenant()));
  const FleetPage page = SelectFleet(agents, query);
  boost::json::array listed;
  listed.reserve(page.agents.size());
  for (const AgentView* v : page.agents) {
    SPOTOPT_ADMIN_TRY(agent, AgentWithReplicaJson(c, *v));
    listed.push_back(std::move(agent));
  }
  return JsonResponse(200, {{"agents", std::move(listed)},
                            {"total", page.matched},
                            {"offset", query.offset},
                            {"summary", FleetSummaryJson(agents)}});
}

Response GetAgent(Call& c) {
  SPOTOPT_ADMIN_TRY(view, c.controller.GetAgent(c.tenant(), c.agent()));
  SPOTOPT_ADMIN_TRY(agent, AgentWithReplicaJson(c, view));
  return JsonResponse(200, agent);
}

Response GetConfig(Call& c) {
  SPOTOPT_ADMIN_TRY(config, c.controller.GetConfig(c.tenant(), c.agent()));
  return JsonResponse(200, ConfigRecordJson(config));
}

Response PutConfig(Call& c) {
  SPOTOPT_ADMIN_TRY(patch, ParseConfigPatchJson(c.raw_body));
  std::optional<int64_t> expected;
  if (const std::string v = QueryValue(c.query, "expected_version"); !v.empty()) {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size()) {
      return ErrorResponse(absl::InvalidArgumentError("expected_version: not an integer"));
    }
    expected = n;
  }
  SPOTOPT_ADMIN_TRY(config, c.controller.UpdateConfig(c.tenant(), c.agent(), patch, expected));
  return JsonResponse(200, ConfigRecordJson(config));
}

// ---- Commands ------------------------------------------------------------------

Response Switch(Call& c) {
  // Operators ask for manual switches only; priority and authorship are not theirs
  // to set.
  SPOTOPT_ADMIN_CHECK(CheckKeys(
      c.body, {"target_mode", "target_pool_id", "reason", "override_limits", "ttl_seconds"}));
  SPOTOPT_ADMIN_TRY(request, protocol::SwitchRequestFromJson(c.body));
  request.priority = Priority::kManual;
  request.requested_by = c.requested_by;
  SPOTOPT_ADMIN_TRY(command, c.controller.EnqueueSwitch(c.tenant(), c.agent(), request));
  return JsonResponse(201, CommandRecordJson(command));
}

Response ListCommands(Call& c) {
  SPOTOPT_ADMIN_TRY(commands, c.controller.ListCommands(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("commands", commands, CommandRecordJson));
}

Response CancelCommand(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"reason"}));
  SPOTOPT_ADMIN_TRY(reason, json::OptString(c.body, "reason"));
  SPOTOPT_ADMIN_TRY(command, c.controller.CancelCommand(c.tenant(), c.agent(), c.item(),
                                                        reason.value_or("cancelled by operator")));
  return JsonResponse(200, CommandRecordJson(command));
}

// ---- Replicas ------------------------------------------------------------------

Response ListReplicas(Call& c) {
  SPOTOPT_ADMIN_TRY(replicas, c.controller.ListReplicas(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("replicas", replicas, ReplicaRecordJson));
}

Response RequestReplica(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"pool_id", "replica_type"}));
  SPOTOPT_ADMIN_TRY(request, protocol::ReplicaRequestFromJson(c.body));
  request.requested_by = c.requested_by;
  SPOTOPT_ADMIN_TRY(replica, c.controller.RequestReplica(c.tenant(), c.agent(), request));
  return JsonResponse(201, ReplicaRecordJson(replica));
}

Response PromoteReplica(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"force"}));
  SPOTOPT_ADMIN_TRY(force, json::OptBool(c.body, "force"));
  SPOTOPT_ADMIN_TRY(
      replica, c.controller.PromoteReplica(c.tenant(), c.agent(), c.item(), force.value_or(false)));
  return JsonResponse(200, ReplicaRecordJson(replica));
}

Response TerminateReplica(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {}));
  SPOTOPT_ADMIN_TRY(replica, c.controller.TerminateReplica(c.tenant(), c.agent(), c.item()));
  return JsonResponse(200, ReplicaRecordJson(replica));
}

// ---- Incidents and events ----------------------------------------------------------

Response ListIncidents(Call& c) {
  SPOTOPT_ADMIN_TRY(incidents, c.controller.ListIncidents(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("incidents", incidents, IncidentJson));
}

Response ListEvents(Call& c) {
  SPOTOPT_ADMIN_TRY(events, c.controller.ListEvents(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("events", events, EventJson));
}

// ---- Switches, prices and savings ----------------------------------------------

Response ListSwitches(Call& c) {
  SPOTOPT_ADMIN_TRY(switches, c.controller.ListSwitches(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("switches", switches, protocol::SwitchJson));
}

absl::StatusOr<ledger::Period> PeriodParam(const boost::urls::params_view& query) {
  const std::string period = QueryValue(query, "period");
  return ledger::ParsePeriod(period.empty() ? "day" : period);
}

// ?from= and ?to= as RFC 3339 (use Z, '+' is a space in a query); absent = open.
absl::StatusOr<Time> TimeParam(const boost::urls::params_view& query, std::string_view key,
                               Time open) {
  const std::string v = QueryValue(query, key);
  if (v.empty()) return open;
  absl::StatusOr<Time> t = ParseTimestamp(v);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: {}", key, std::string(t.status().message())));
  }
  return t;
}

// The savings of one agent (agent route) or of the whole tenant.
Response Savings(Call& c) {
  const std::string agent = c.segments.size() > 3 ? c.agent() : std::string();
  SPOTOPT_ADMIN_TRY(period, PeriodParam(c.query));
  SPOTOPT_ADMIN_TRY(figures, c.controller.Savings(c.tenant(), agent, period));
  boost::json::object out = ListJson("periods", figures, protocol::FiguresJson);
  out["period"] = ToString(period);
  return JsonResponse(200, out);
}

Response CostIntervals(Call& c) {
  SPOTOPT_ADMIN_TRY(intervals, c.controller.CostIntervals(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("intervals", intervals, protocol::CostIntervalJson));
}

// One pool's price history: ?region=&instance_type=&az= (no az: on-demand),
// ?view=raw|clean|interpolated (default clean), ?from=&to=. The clean views carry
// the series' gaps too.
Response PriceHistory(Call& c) {
  const Pool pool{QueryValue(c.query, "region"), QueryValue(c.query, "az"),
                  QueryValue(c.query, "instance_type")};
  SPOTOPT_ADMIN_TRY(from, TimeParam(c.query, "from", absl::InfinitePast()));
  SPOTOPT_ADMIN_TRY(to, TimeParam(c.query, "to", absl::InfiniteFuture()));
  const std::string view = QueryValue(c.query, "view");
  if (view == "raw") {
    SPOTOPT_ADMIN_TRY(raw, c.controller.ListPriceObservations(c.tenant(), pool, from, to));
    return JsonResponse(200, ListJson("observations", raw, protocol::PriceObservationJson));
  }
  if (!view.empty() && view != "clean" && view != "interpolated") {
    return ErrorResponse(absl::InvalidArgumentError("view: one of raw, clean, interpolated"));
  }
  SPOTOPT_ADMIN_TRY(points,
                    c.controller.PriceSeries(
                        c.tenant(), pool, from, to,
                        view == "interpolated" ? SeriesView::kInterpolated : SeriesView::kClean));
  // The gaps come with the series, so a chart can mark them without a second call.
  SPOTOPT_ADMIN_TRY(gaps, c.controller.PriceGaps(c.tenant(), pool, from, to));
  boost::json::object out = ListJson("points", points, protocol::CleanPointJson);
  out["gaps"] = protocol::JsonArray(gaps, protocol::GapJson);
  return JsonResponse(200, out);
}

Response LatestPrices(Call& c) {
  SPOTOPT_ADMIN_TRY(latest, c.controller.LatestCleanPrices(c.tenant()));
  return JsonResponse(200, ListJson("prices", latest, protocol::LatestPriceJson));
}

Response ImportPrices(Call& c) {
  SPOTOPT_ADMIN_TRY(prices, protocol::CatalogPricesFromJson(c.raw_body));
  SPOTOPT_ADMIN_TRY(imported, c.controller.ImportPrices(c.tenant(), prices));
  return JsonResponse(201, {{"imported", imported}});
}

Response Market(Call& c) {
  SPOTOPT_ADMIN_TRY(market, c.controller.Market(c.tenant(), QueryValue(c.query, "region"),
                                                QueryValue(c.query, "instance_type")));
  return JsonResponse(200, protocol::MarketJson(market));
}

// ---- Decisions and engines ----------------------------------------------------

Response Decide(Call& c) {
  SPOTOPT_ADMIN_TRY(preview, c.controller.Decide(c.tenant(), c.agent()));
  return JsonResponse(200, protocol::DecisionPreviewJson(preview));
}

Response Decisions(Call& c) {
  SPOTOPT_ADMIN_TRY(page, protocol::DecisionPageFrom(QueryValue(c.query, "before"),
                                                     QueryValue(c.query, "limit")));
  absl::StatusOr<std::vector<decision::DecisionRecord>> log =
      c.segments.size() > 3 ? c.controller.ListDecisions(c.tenant(), c.agent(), page)
                            : c.controller.ListTenantDecisions(c.tenant(), page);
  if (!log.ok()) return ErrorResponse(log.status());
  return JsonResponse(200, ListJson("decisions", *log, protocol::DecisionRecordJson));
}

Response RunDecisions(Call& c) {
  SPOTOPT_ADMIN_TRY(report, c.controller.RunDecisions(absl::Now()));
  return JsonResponse(200, protocol::DecisionRunJson(report));
}

Response ListEngines(Call& c) {
  return JsonResponse(200,
                      ListJson("engines", c.controller.ListEngines(), protocol::EngineInfoJson));
}

// A model the server can read: the manifest's path on the server's host, the model
// file beside it.
Response RegisterModel(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"manifest"}));
  SPOTOPT_ADMIN_TRY(path, RequiredString(c.body, "manifest"));
  SPOTOPT_ADMIN_TRY(info, RegisterModelFiles(c.controller, path));
  return JsonResponse(201, protocol::EngineInfoJson(info));
}

Response TenantEngines(Call& c) {
  SPOTOPT_ADMIN_TRY(engines, c.controller.GetTenantEngines(c.tenant()));
  return JsonResponse(200, protocol::TenantEnginesJson(engines));
}

Response ActivateEngine(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"name", "version"}));
  SPOTOPT_ADMIN_TRY(name, RequiredString(c.body, "name"));
  SPOTOPT_ADMIN_TRY(version, RequiredString(c.body, "version"));
  SPOTOPT_ADMIN_TRY(engines, c.controller.ActivateEngine(c.tenant(), name, version));
  return JsonResponse(200, protocol::TenantEnginesJson(engines));
}

Response RollbackEngine(Call& c) {
  SPOTOPT_ADMIN_TRY(engines, c.controller.RollbackEngine(c.tenant()));
  return JsonResponse(200, protocol::TenantEnginesJson(engines));
}

constexpr std::string_view kId = "{}";
const Route kRoutes[] = {
    {"GET", {"tenants"}, "/api/admin/tenants", ListTenants},
    {"POST", {"tenants"}, "/api/admin/tenants", CreateTenant},
    {"GET", {"tenants", kId}, "/api/admin/tenants/{id}", GetTenant},
    {"DELETE",
     {"tenants", kId},
     "/api/admin/tenants/{id}",
     TenantTransition<&Controller::DeleteTenant>},
    {"POST",
     {"tenants", kId, "suspend"},
     "/api/admin/tenants/{id}/suspend",
     TenantTransition<&Controller::SuspendTenant>},
    {"POST",
     {"tenants", kId, "reactivate"},
     "/api/admin/tenants/{id}/reactivate",
     TenantTransition<&Controller::ReactivateTenant>},
    {"POST", {"tenants", kId, "rotate-token"}, "/api/admin/tenants/{id}/rotate-token", RotateToken},
    {"GET", {"tenants", kId, "agents"}, "/api/admin/tenants/{id}/agents", ListAgents},
    {"GET", {"tenants", kId, "agents", kId}, "/api/admin/tenants/{id}/agents/{id}", GetAgent},
    {"GET",
     {"tenants", kId, "agents", kId, "config"},
     "/api/admin/tenants/{id}/agents/{id}/config",
     GetConfig},
    {"PUT",
     {"tenants", kId, "agents", kId, "config"},
     "/api/admin/tenants/{id}/agents/{id}/config",
     PutConfig,
     true},
    {"POST",
     {"tenants", kId, "agents", kId, "switch"},
     "/api/admin/tenants/{id}/agents/{id}/switch",
     Switch},
    {"GET",
     {"tenants", kId, "agents", kId, "commands"},
     "/api/admin/tenants/{id}/agents/{id}/commands",
     ListCommands},
    {"POST",
     {"tenants", kId, "agents", kId, "commands", kId, "cancel"},
     "/api/admin/tenants/{id}/agents/{id}/commands/{id}/cancel",
     CancelCommand},
    {"GET",
     {"tenants", kId, "agents", kId, "replicas"},
     "/api/admin/tenants/{id}/agents/{id}/replicas",
     ListReplicas},
    {"POST",
     {"tenants", kId, "agents", kId, "replicas"},
     "/api/admin/tenants/{id}/agents/{id}/replicas",
     RequestReplica},
    {"POST",
     {"tenants", kId, "agents", kId, "replicas", kId, "promote"},
     "/api/admin/tenants/{id}/agents/{id}/replicas/{id}/promote",
     PromoteReplica},
    {"POST",
     {"tenants", kId, "agents", kId, "replicas", kId, "terminate"},
     "/api/admin/tenants/{id}/agents/{id}/replicas/{id}/terminate",
     TerminateReplica},
    {"GET",
     {"tenants", kId, "agents", kId, "incidents"},
     "/api/admin/tenants/{id}/agents/{id}/incidents",
     ListIncidents},
    {"GET",
     {"tenants", kId, "agents", kId, "events"},
     "/api/admin/tenants/{id}/agents/{id}/events",
     ListEvents},
    {"GET",
     {"tenants", kId, "agents", kId, "switches"},
     "/api/admin/tenants/{id}/agents/{id}/switches",
     ListSwitches},
    {"GET",
     {"tenants", kId, "agents", kId, "savings"},
     "/api/admin/tenants/{id}/agents/{id}/savings",
     Savings},
    {"GET",
     {"tenants", kId, "agents", kId, "cost-intervals"},
     "/api/admin/tenants/{id}/agents/{id}/cost-intervals",
     CostIntervals},
    {"GET", {"tenants", kId, "savings"}, "/api/admin/tenants/{id}/savings", Savings},
    {"GET", {"tenants", kId, "prices"}, "/api/admin/tenants/{id}/prices", PriceHistory},
    {"POST", {"tenants", kId, "prices"}, "/api/admin/tenants/{id}/prices", ImportPrices, true},
    {"GET",
     {"tenants", kId, "prices", "latest"},
     "/api/admin/tenants/{id}/prices/latest",
     LatestPrices},
    {"GET", {"tenants", kId, "market"}, "/api/admin/tenants/{id}/market", Market},
    {"GET",
     {"tenants", kId, "agents", kId, "decide"},
     "/api/admin/tenants/{id}/agents/{id}/decide",
     Decide},
    {"GET",
     {"tenants", kId, "agents", kId, "decisions"},
     "/api/admin/tenants/{id}/agents/{id}/decisions",
     Decisions},
    {"GET", {"tenants", kId, "decisions"}, "/api/admin/tenants/{id}/decisions", Decisions},
    {"POST", {"decisions", "run"}, "/api/admin/decisions/run", RunDecisions},
    {"GET", {"engines"}, "/api/admin/engines", ListEngines},
    {"POST", {"engines"}, "/api/admin/engines", RegisterModel},
    {"GET", {"tenants", kId, "engine"}, "/api/admin/tenants/{id}/engine", TenantEngines},
    {"POST",
     {"tenants", kId, "engine", "activate"},
     "/api/admin/tenants/{id}/engine/activate",
     ActivateEngine},
    {"POST",
     {"tenants", kId, "engine", "rollback"},
     "/api/admin/tenants/{id}/engine/rollback",
     RollbackEngine},
};

bool Matches(const Route& r, const std::vector<std::string>& segments) {
  size_t n = 0;
  while (n < r.pattern.size() && !r.pattern[n].empty()) ++n;
  if (segments.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (r.pattern[i] == kId ? segments[i].empty() : r.pattern[i] != segments[i]) return false;
  }
  return true;
}

std::vector<std::string> Segments(std::string_view path) {
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);  // one trailing slash
  std::vector<std::string> out;
  while (true) {
    const size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

std::string_view BearerToken(const protocol::Request& request) {
  constexpr std::string_view kWhitespace = " \t";
  std::string_view v = HeaderValue(request, "authorization");
  v.remove_prefix(std::min(v.size(), v.find_first_not_of(kWhitespace)));
  if (v.size() < 7 || strncasecmp(v.data(), "bearer ", 7) != 0) return {};
  v.remove_prefix(7);
  v.remove_prefix(std::min(v.size(), v.find_first_not_of(kWhitespace)));
  return v.substr(0, v.find_last_not_of(kWhitespace) + 1);
}

}  // namespace

Response AdminApi::Handle(const protocol::Request& request) {
  Response response = Answer(request);
  // Management answers carry tenants' records and fresh tokens: no browser or proxy
  // may keep a copy.
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

Response AdminApi::Answer(const protocol::Request& request) {
  constexpr std::string_view kPrefix = "/api/admin/";
  const boost::urls::result<boost::urls::url_view> target =
      boost::urls::parse_origin_form(request.target);
  if (!target) return ErrorResponse(absl::InvalidArgumentError("malformed request target"));
  const std::string_view path = target->encoded_path();
  const boost::urls::params_view query = target->params();
  const std::vector<std::string> segments = Segments(path.substr(kPrefix.size()));

  const Route* route = nullptr;
  std::string allow;
  for (const Route& r : kRoutes) {
    if (!Matches(r, segments)) continue;
    if (r.method == request.method) {
      route = &r;
      break;
    }
    allow += allow.empty() ? std::string(r.method) : fmt::format(", {}", r.method);
  }
  if (!route) {
    if (allow.empty()) return ErrorResponse(absl::NotFoundError("unknown route"));
    Response r = ErrorResponse(405, "method_not_allowed", "method not allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
  }

  Response response = [&]() -> Response {
    SPOTOPT_ADMIN_TRY(operator_prefix, operators_.Authenticate(BearerToken(request)));
    boost::json::object body;
    if (!route->raw_body && route->method != "GET" && route->method != "DELETE" &&
        !request.body.empty()) {
      SPOTOPT_ADMIN_TRY(parsed, json::ParseObject(request.body));
      body = std::move(parsed);
    }
    // Records under a tenant are looked up only for a tenant that exists, so an
    // unknown tenant is a 404 rather than an empty list.
    if (segments.size() > 2) {
      SPOTOPT_ADMIN_TRY(tenant, controller_.GetTenant(segments[1]));
    }
    const std::string requested_by = fmt::format("operator:{}", operator_prefix);
    Call call{controller_, segments, body, request.body, query, requested_by};
    Response r = route->fn(call);
    if (route->method != "GET" && r.status < 300) {
      Log(LogLevel::kInfo, "admin change", "route={} method={} tenant={} agent={} by={}",
          route->name, route->method, segments.size() > 1 ? segments[1] : "-",
          segments.size() > 3 ? segments[3] : "-", requested_by);
    }
    return r;
  }();
  response.route = route->name;
  return response;
}

}  // namespace spotopt::server
