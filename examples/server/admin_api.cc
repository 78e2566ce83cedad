#include "admin_api.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <initializer_list>

#include <strings.h>

#include "admin_json.h"
#include "common/json_input.h"
#include "log.h"

namespace spotopt::server {
namespace {

using protocol::Response;

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
  std::string_view query;
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

// Operator writes are exact, like config writes: a misspelt key is refused rather
// than silently ignored.
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

absl::StatusOr<std::string> RequiredString(const boost::json::object& body, std::string_view key) {
  absl::StatusOr<std::optional<std::string>> s = json::OptString(body, key);
  if (!s.ok()) return s.status();
  if (!*s) return absl::InvalidArgumentError(fmt::format("{}: required", key));
  return **s;
}

std::string_view QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
  }
  return {};
}

template <typename T, typename ToJson>
boost::json::object ListJson(std::string_view key, const std::vector<T>& items, ToJson to_json) {
  boost::json::array out;
  for (const T& item : items) out.push_back(to_json(item));
  const size_t total = out.size();
  return {{key, std::move(out)}, {"total", total}};
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

Response ListAgents(Call& c) {
  SPOTOPT_ADMIN_TRY(agents, c.controller.ListAgents(c.tenant()));
  return JsonResponse(200, ListJson("agents", agents, AgentJson));
}

Response GetAgent(Call& c) {
  SPOTOPT_ADMIN_TRY(agent, c.controller.GetAgent(c.tenant(), c.agent()));
  return JsonResponse(200, AgentJson(agent));
}

Response GetConfig(Call& c) {
  SPOTOPT_ADMIN_TRY(config, c.controller.GetConfig(c.tenant(), c.agent()));
  return JsonResponse(200, ConfigJson(config));
}

Response PutConfig(Call& c) {
  SPOTOPT_ADMIN_TRY(patch, ParseConfigPatchJson(c.raw_body));
  std::optional<int64_t> expected;
  if (const std::string_view v = QueryValue(c.query, "expected_version"); !v.empty()) {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size()) {
      return ErrorResponse(absl::InvalidArgumentError("expected_version: not an integer"));
    }
    expected = n;
  }
  SPOTOPT_ADMIN_TRY(config, c.controller.UpdateConfig(c.tenant(), c.agent(), patch, expected));
  return JsonResponse(200, ConfigJson(config));
}

// ---- Commands ------------------------------------------------------------------

Response Switch(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(
      c.body, {"target_mode", "target_pool_id", "reason", "override_limits", "ttl_seconds"}));
  SPOTOPT_ADMIN_TRY(mode_text, RequiredString(c.body, "target_mode"));
  SPOTOPT_ADMIN_TRY(mode, ParseMode(mode_text));
  SPOTOPT_ADMIN_TRY(pool, json::OptString(c.body, "target_pool_id"));
  SPOTOPT_ADMIN_TRY(reason, json::OptString(c.body, "reason"));
  SPOTOPT_ADMIN_TRY(override_limits, json::OptBool(c.body, "override_limits"));
  SPOTOPT_ADMIN_TRY(ttl_seconds, json::OptInt(c.body, "ttl_seconds"));
  SwitchRequest request{.target_mode = mode,
                        .target_pool_id = pool.value_or(""),
                        .priority = Priority::kManual,
                        .reason = reason.value_or("operator request"),
                        .requested_by = c.requested_by,
                        .override_limits = override_limits.value_or(false)};
  if (ttl_seconds) {
    if (*ttl_seconds <= 0)
      return ErrorResponse(absl::InvalidArgumentError("ttl_seconds: must be > 0"));
    request.ttl = absl::Seconds(*ttl_seconds);
  }
  SPOTOPT_ADMIN_TRY(command, c.controller.EnqueueSwitch(c.tenant(), c.agent(), request));
  return JsonResponse(201, CommandJson(command));
}

Response ListCommands(Call& c) {
  SPOTOPT_ADMIN_TRY(commands, c.controller.ListCommands(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("commands", commands, CommandJson));
}

Response CancelCommand(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"reason"}));
  SPOTOPT_ADMIN_TRY(reason, json::OptString(c.body, "reason"));
  SPOTOPT_ADMIN_TRY(command, c.controller.CancelCommand(c.tenant(), c.agent(), c.item(),
                                                        reason.value_or("cancelled by operator")));
  return JsonResponse(200, CommandJson(command));
}

// ---- Replicas ------------------------------------------------------------------

Response ListReplicas(Call& c) {
  SPOTOPT_ADMIN_TRY(replicas, c.controller.ListReplicas(c.tenant(), c.agent()));
  return JsonResponse(200, ListJson("replicas", replicas, ReplicaJson));
}

Response RequestReplica(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"pool_id", "replica_type"}));
  SPOTOPT_ADMIN_TRY(pool, json::OptString(c.body, "pool_id"));
  SPOTOPT_ADMIN_TRY(type, json::OptString(c.body, "replica_type"));
  SPOTOPT_ADMIN_TRY(replica, c.controller.RequestReplica(c.tenant(), c.agent(),
                                                         {.pool_id = pool.value_or(""),
                                                          .replica_type = type.value_or("manual"),
                                                          .requested_by = c.requested_by}));
  return JsonResponse(201, ReplicaJson(replica));
}

Response PromoteReplica(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {"force"}));
  SPOTOPT_ADMIN_TRY(force, json::OptBool(c.body, "force"));
  SPOTOPT_ADMIN_TRY(
      replica, c.controller.PromoteReplica(c.tenant(), c.agent(), c.item(), force.value_or(false)));
  return JsonResponse(200, ReplicaJson(replica));
}

Response TerminateReplica(Call& c) {
  SPOTOPT_ADMIN_CHECK(CheckKeys(c.body, {}));
  SPOTOPT_ADMIN_TRY(replica, c.controller.TerminateReplica(c.tenant(), c.agent(), c.item()));
  return JsonResponse(200, ReplicaJson(replica));
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
  for (const protocol::Header& h : request.headers) {
    if (h.name.size() != 13 || strncasecmp(h.name.data(), "authorization", 13) != 0) continue;
    std::string_view v = h.value;
    v.remove_prefix(std::min(v.size(), v.find_first_not_of(kWhitespace)));
    if (v.size() < 7 || strncasecmp(v.data(), "bearer ", 7) != 0) return {};
    v.remove_prefix(7);
    v.remove_prefix(std::min(v.size(), v.find_first_not_of(kWhitespace)));
    return v.substr(0, v.find_last_not_of(kWhitespace) + 1);
  }
  return {};
}

}  // namespace

Response AdminApi::Handle(const protocol::Request& request) {
  constexpr std::string_view kPrefix = "/api/admin/";
  const size_t q = request.target.find('?');
  const std::string_view path = request.target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
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
