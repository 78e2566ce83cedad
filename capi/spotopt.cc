// The C ABI over the Controller and the agent protocol handler. Every entry point
// catches everything: a C caller has no way to survive a C++ exception.
#include "spotopt/spotopt.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/json_input.h"
#include "protocol/json_views.h"
#include "protocol/wire.h"
#include "spotopt/clock.h"
#include "spotopt/protocol/handler.h"
#include "spotopt/service/controller.h"
#include "spotopt/store/memory_store.h"
#include "spotopt/store/sqlite_store.h"

// The header's macros are what C callers compile against; they must not drift from
// the project version the soname is built from. (Equal operands are the point.)
// NOLINTBEGIN(misc-redundant-expression)
static_assert(SPOTOPT_VERSION_MAJOR == SPOTOPT_PROJECT_VERSION_MAJOR &&
                  SPOTOPT_VERSION_MINOR == SPOTOPT_PROJECT_VERSION_MINOR &&
                  SPOTOPT_VERSION_PATCH == SPOTOPT_PROJECT_VERSION_PATCH,
              "capi/spotopt.h version macros differ from the project version");
// NOLINTEND(misc-redundant-expression)

namespace {

// Asks the host for the time through its callback.
class CallbackClock final : public spotopt::Clock {
 public:
  CallbackClock(spotopt_now_fn now, void* user_data) : now_(now), user_data_(user_data) {}
  spotopt::Time Now() const override { return absl::FromUnixMicros(now_(user_data_)); }

 private:
  spotopt_now_fn now_;
  void* user_data_;
};

}  // namespace

struct spotopt_clock {
  std::shared_ptr<const spotopt::Clock> clock;
  // Set for manual clocks only: the same object as `clock`, writable.
  std::shared_ptr<spotopt::ManualClock> manual;
};

struct spotopt_controller {
  // The protocol handler keeps a reference to the Controller, so both live here and
  // are destroyed together.
  spotopt_controller(std::shared_ptr<spotopt::Store> store,
                     std::shared_ptr<const spotopt::Clock> clock)
      : controller(std::move(store), std::move(clock)), protocol(controller) {}
  spotopt::Controller controller;
  spotopt::protocol::AgentProtocol protocol;
};

namespace {

namespace json = boost::json;
using spotopt::protocol::JsonArray;

thread_local std::string last_error;

spotopt_status ToStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return SPOTOPT_OK;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return SPOTOPT_INVALID_ARGUMENT;
    case absl::StatusCode::kNotFound:
      return SPOTOPT_NOT_FOUND;
    case absl::StatusCode::kFailedPrecondition:
      return SPOTOPT_FAILED_PRECONDITION;
    case absl::StatusCode::kAlreadyExists:
      return SPOTOPT_ALREADY_EXISTS;
    case absl::StatusCode::kUnauthenticated:
      return SPOTOPT_UNAUTHENTICATED;
    case absl::StatusCode::kPermissionDenied:
      return SPOTOPT_PERMISSION_DENIED;
    // Both mean "try again": a busy store or a lost optimistic race.
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
      return SPOTOPT_UNAVAILABLE;
    default:
      return SPOTOPT_INTERNAL;
  }
}

spotopt_status Fail(spotopt_status status, std::string message) {
  last_error = std::move(message);
  return status;
}

spotopt_status Fail(const absl::Status& status) {
  return Fail(ToStatus(status.code()), std::string(status.message()));
}

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using OutString = std::unique_ptr<char, FreeDeleter>;

// A malloc'd copy, so spotopt_free is plain free() whatever the output was. Held
// until every output of a call exists, so a failed allocation writes none of them.
OutString CopyOut(std::string_view s) {
  OutString p(static_cast<char*>(std::malloc(s.size() + 1)));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p.get(), s.data(), s.size());
  p.get()[s.size()] = '\0';
  return p;
}

// Runs `body` with the thread's last error cleared, translating any exception.
template <typename F>
spotopt_status Guard(const char* function, F&& body) {
  last_error.clear();
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(SPOTOPT_INTERNAL, fmt::format("{}: out of memory", function));
  } catch (const std::exception& e) {
    return Fail(SPOTOPT_INTERNAL, fmt::format("{}: {}", function, e.what()));
  } catch (...) {
    return Fail(SPOTOPT_INTERNAL, fmt::format("{}: unknown exception", function));
  }
}

struct Arg {
  const void* value;
  const char* name;
};

// SPOTOPT_OK when every required argument is set, else the first NULL one's error.
spotopt_status Require(const char* function, std::initializer_list<Arg> args) {
  for (const Arg& a : args) {
    if (a.value == nullptr) {
      return Fail(SPOTOPT_INVALID_ARGUMENT, fmt::format("{}: {} is NULL", function, a.name));
    }
  }
  return SPOTOPT_OK;
}

// Writes the JSON of a call's result to *out, or fails with its status.
template <typename T, typename Render>
spotopt_status JsonOut(const absl::StatusOr<T>& result, Render render, char** out) {
  if (!result.ok()) return Fail(result.status());
  *out = CopyOut(json::serialize(render(*result))).release();
  return SPOTOPT_OK;
}

spotopt_status StatusOut(const absl::Status& status) {
  return status.ok() ? SPOTOPT_OK : Fail(status);
}

// An optional JSON object argument: NULL is {}.
absl::StatusOr<json::object> ObjectArg(const char* text, std::string_view name) {
  if (text == nullptr) return json::object();
  absl::StatusOr<json::object> parsed = spotopt::json::ParseObject(text);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        fmt::format("{}: {}", name, std::string(parsed.status().message())));
  }
  return parsed;
}

// Hosts that do not say who asked are recorded as this.
constexpr const char* kDefaultRequestedBy = "capi";

absl::StatusOr<std::shared_ptr<spotopt::Store>> OpenStore(const std::string& uri) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (uri == "memory:") return std::make_shared<spotopt::MemoryStore>();
  if (uri.rfind(kSqlite, 0) == 0 && uri.size() > kSqlite.size()) {
    auto store = spotopt::SqliteStore::Open(uri.substr(kSqlite.size()));
    if (!store.ok()) return store.status();
    return std::shared_ptr<spotopt::Store>(std::move(*store));
  }
  return absl::InvalidArgumentError(
      fmt::format("unsupported store URI \"{}\": expected \"memory:\" or \"sqlite:PATH\"", uri));
}

spotopt_status Open(const char* store_uri, std::shared_ptr<const spotopt::Clock> clock,
                    spotopt_controller** out) {
  auto store = OpenStore(store_uri);
  if (!store.ok()) return Fail(store.status());
  *out = new spotopt_controller(std::move(*store), std::move(clock));
  return SPOTOPT_OK;
}

spotopt_status CheckBody(const char* function, const char* body, size_t body_len) {
  if (body == nullptr && body_len != 0) {
    return Fail(SPOTOPT_INVALID_ARGUMENT,
                fmt::format("{}: body is NULL but body_len is {}", function, body_len));
  }
  return SPOTOPT_OK;
}

std::string_view BodyView(const char* body, size_t body_len) {
  return body == nullptr ? std::string_view() : std::string_view(body, body_len);
}

// The response of spotopt_handle_http and the storage its pointers point into.
struct HttpResponse : spotopt_http_response {
  explicit HttpResponse(spotopt::protocol::Response response)
      : spotopt_http_response{}, owned(std::move(response)) {
    header_array.reserve(owned.headers.size());
    for (const auto& [name, value] : owned.headers) {
      header_array.push_back(spotopt_header{name.c_str(), value.c_str()});
    }
    status = owned.status;
    headers = header_array.data();
    header_count = header_array.size();
    body = owned.body.c_str();
    body_len = owned.body.size();
  }
  spotopt::protocol::Response owned;
  std::vector<spotopt_header> header_array;
};

using TenantTransition = absl::Status (spotopt::Controller::*)(std::string_view);

spotopt_status ChangeTenant(const char* function, spotopt_controller* controller,
                            const char* tenant_id, TenantTransition transition) {
  return Guard(function, [&] {
    if (spotopt_status s =
            Require(function, {{controller, "controller"}, {tenant_id, "tenant_id"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return StatusOut((controller->controller.*transition)(tenant_id));
  });
}

// The shape shared by the per-agent reads: (controller, tenant, agent) -> JSON.
template <typename Call, typename Render>
spotopt_status AgentRead(const char* function, spotopt_controller* controller,
                         const char* tenant_id, const char* agent_id, char** out,
                         const char* out_name, Call call, Render render) {
  return Guard(function, [&] {
    if (spotopt_status s = Require(function, {{controller, "controller"},
                                              {tenant_id, "tenant_id"},
                                              {agent_id, "agent_id"},
                                              {out, out_name}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(call(controller->controller, tenant_id, agent_id), render, out);
  });
}

template <typename ToJson>
auto ArrayOf(ToJson to_json) {
  return [to_json](const auto& items) { return JsonArray(items, to_json); };
}

// The shape shared by the operator writes that take a JSON request: parse it with
// `from_json`, default its author, run `call`, render the record.
// A NULL request_json is {} unless `request_required`.
template <typename FromJson, typename Call, typename Render>
spotopt_status JsonRequest(const char* function, spotopt_controller* controller,
                           const char* tenant_id, const char* agent_id, const char* request_json,
                           bool request_required, char** out, const char* out_name,
                           FromJson from_json, Call call, Render render) {
  return Guard(function, [&] {
    if (spotopt_status s = Require(function, {{controller, "controller"},
                                              {tenant_id, "tenant_id"},
                                              {agent_id, "agent_id"},
                                              {out, out_name}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (request_required) {
      if (spotopt_status s = Require(function, {{request_json, "request_json"}}); s != SPOTOPT_OK) {
        return s;
      }
    }
    auto body = ObjectArg(request_json, "request_json");
    if (!body.ok()) return Fail(body.status());
    auto request = from_json(*body);
    if (!request.ok()) return Fail(request.status());
    if (request->requested_by.empty()) request->requested_by = kDefaultRequestedBy;
    return JsonOut(call(controller->controller, tenant_id, agent_id, *request), render, out);
  });
}

// A time bound of the C ABI: INT64_MIN and INT64_MAX are open ends.
spotopt::Time BoundArg(int64_t us) {
  if (us == INT64_MIN) return absl::InfinitePast();
  if (us == INT64_MAX) return absl::InfiniteFuture();
  return spotopt::FromMicros(us);
}

}  // namespace

extern "C" {

const char* spotopt_version(void) {
#define SPOTOPT_STR_(x) #x
#define SPOTOPT_STR(x) SPOTOPT_STR_(x)
  return SPOTOPT_STR(SPOTOPT_VERSION_MAJOR) "." SPOTOPT_STR(SPOTOPT_VERSION_MINOR) "." SPOTOPT_STR(
      SPOTOPT_VERSION_PATCH);
#undef SPOTOPT_STR
#undef SPOTOPT_STR_
}

const char* spotopt_last_error(void) { return last_error.c_str(); }

void spotopt_free(void* p) { std::free(p); }

// ---- Clocks ------------------------------------------------------------------

spotopt_status spotopt_clock_create_manual(int64_t start_unix_micros, spotopt_clock** out) {
  constexpr const char* kFn = "spotopt_clock_create_manual";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{out, "out"}}); s != SPOTOPT_OK) return s;
    auto manual = std::make_shared<spotopt::ManualClock>(absl::FromUnixMicros(start_unix_micros));
    *out = new spotopt_clock{manual, manual};
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_clock_create_callback(spotopt_now_fn now, void* user_data,
                                             spotopt_clock** out) {
  constexpr const char* kFn = "spotopt_clock_create_callback";
  return Guard(kFn, [&] {
    if (now == nullptr) return Fail(SPOTOPT_INVALID_ARGUMENT, fmt::format("{}: now is NULL", kFn));
    if (spotopt_status s = Require(kFn, {{out, "out"}}); s != SPOTOPT_OK) return s;
    *out = new spotopt_clock{std::make_shared<CallbackClock>(now, user_data), nullptr};
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_clock_set(spotopt_clock* clock, int64_t now_unix_micros) {
  constexpr const char* kFn = "spotopt_clock_set";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{clock, "clock"}}); s != SPOTOPT_OK) return s;
    if (clock->manual == nullptr) {
      return Fail(SPOTOPT_FAILED_PRECONDITION, fmt::format("{}: not a manual clock", kFn));
    }
    clock->manual->Set(absl::FromUnixMicros(now_unix_micros));
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_clock_advance(spotopt_clock* clock, int64_t micros) {
  constexpr const char* kFn = "spotopt_clock_advance";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{clock, "clock"}}); s != SPOTOPT_OK) return s;
    if (micros < 0) {
      return Fail(SPOTOPT_INVALID_ARGUMENT,
                  fmt::format("{}: micros is {}; a clock only advances", kFn, micros));
    }
    if (clock->manual == nullptr) {
      return Fail(SPOTOPT_FAILED_PRECONDITION, fmt::format("{}: not a manual clock", kFn));
    }
    clock->manual->Advance(absl::Microseconds(micros));
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_clock_now(spotopt_clock* clock, int64_t* now_unix_micros_out) {
  constexpr const char* kFn = "spotopt_clock_now";
  return Guard(kFn, [&] {
    if (spotopt_status s =
            Require(kFn, {{clock, "clock"}, {now_unix_micros_out, "now_unix_micros_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    *now_unix_micros_out = absl::ToUnixMicros(clock->clock->Now());
    return SPOTOPT_OK;
  });
}

void spotopt_clock_destroy(spotopt_clock* clock) {
  Guard("spotopt_clock_destroy", [&] {
    delete clock;
    return SPOTOPT_OK;
  });
}

// ---- Controller ----------------------------------------------------------------

spotopt_status spotopt_controller_open(const char* store_uri, spotopt_controller** out) {
  constexpr const char* kFn = "spotopt_controller_open";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{store_uri, "store_uri"}, {out, "out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return Open(store_uri, std::make_shared<spotopt::SystemClock>(), out);
  });
}

spotopt_status spotopt_controller_open_with_clock(const char* store_uri, spotopt_clock* clock,
                                                  spotopt_controller** out) {
  constexpr const char* kFn = "spotopt_controller_open_with_clock";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{store_uri, "store_uri"}, {clock, "clock"}, {out, "out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return Open(store_uri, clock->clock, out);
  });
}

void spotopt_controller_close(spotopt_controller* controller) {
  // Destructors do not throw here; the guard only keeps the no-exception promise.
  Guard("spotopt_controller_close", [&] {
    delete controller;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_tick(spotopt_controller* controller, int64_t now_unix_micros) {
  constexpr const char* kFn = "spotopt_tick";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"}}); s != SPOTOPT_OK) return s;
    return StatusOut(controller->controller.Tick(absl::FromUnixMicros(now_unix_micros)).status());
  });
}

// ---- Tenants and tokens ----------------------------------------------------------

spotopt_status spotopt_tenant_create(spotopt_controller* controller, const char* name,
                                     char** tenant_id_out, char** token_out) {
  constexpr const char* kFn = "spotopt_tenant_create";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {name, "name"},
                                         {tenant_id_out, "tenant_id_out"},
                                         {token_out, "token_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto created = controller->controller.CreateTenant(name);
    if (!created.ok()) return Fail(created.status());
    OutString id = CopyOut(created->tenant.id);
    OutString token = CopyOut(created->token);
    *tenant_id_out = id.release();
    *token_out = token.release();
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_tenant_get(spotopt_controller* controller, const char* tenant_id,
                                  char** tenant_json_out) {
  constexpr const char* kFn = "spotopt_tenant_get";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {tenant_json_out, "tenant_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.GetTenant(tenant_id), spotopt::protocol::TenantJson,
                   tenant_json_out);
  });
}

spotopt_status spotopt_tenant_list(spotopt_controller* controller, char** tenants_json_out) {
  constexpr const char* kFn = "spotopt_tenant_list";
  return Guard(kFn, [&] {
    if (spotopt_status s =
            Require(kFn, {{controller, "controller"}, {tenants_json_out, "tenants_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.ListTenants(),
        [](const auto& v) { return JsonArray(v, spotopt::protocol::TenantJson); },
        tenants_json_out);
  });
}

spotopt_status spotopt_tenant_suspend(spotopt_controller* controller, const char* tenant_id) {
  return ChangeTenant("spotopt_tenant_suspend", controller, tenant_id,
                      &spotopt::Controller::SuspendTenant);
}

spotopt_status spotopt_tenant_reactivate(spotopt_controller* controller, const char* tenant_id) {
  return ChangeTenant("spotopt_tenant_reactivate", controller, tenant_id,
                      &spotopt::Controller::ReactivateTenant);
}

spotopt_status spotopt_tenant_delete(spotopt_controller* controller, const char* tenant_id) {
  return ChangeTenant("spotopt_tenant_delete", controller, tenant_id,
                      &spotopt::Controller::DeleteTenant);
}

spotopt_status spotopt_tenant_rotate_token(spotopt_controller* controller, const char* tenant_id,
                                           char** token_out) {
  constexpr const char* kFn = "spotopt_tenant_rotate_token";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {token_out, "token_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto token = controller->controller.RotateToken(tenant_id);
    if (!token.ok()) return Fail(token.status());
    *token_out = CopyOut(*token).release();
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_tenant_authenticate(spotopt_controller* controller, const char* token,
                                           char** tenant_id_out) {
  constexpr const char* kFn = "spotopt_tenant_authenticate";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {token, "token"}, {tenant_id_out, "tenant_id_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto tenant = controller->controller.Authenticate(token);
    if (!tenant.ok()) return Fail(tenant.status());
    *tenant_id_out = CopyOut(tenant->id).release();
    return SPOTOPT_OK;
  });
}

// ---- Agents ------------------------------------------------------------------------

spotopt_status spotopt_agent_get(spotopt_controller* controller, const char* tenant_id,
                                 const char* agent_id, char** agent_json_out) {
  return AgentRead(
      "spotopt_agent_get", controller, tenant_id, agent_id, agent_json_out, "agent_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.GetAgent(t, a); },
      spotopt::protocol::AgentJson);
}

spotopt_status spotopt_agent_list(spotopt_controller* controller, const char* tenant_id,
                                  char** agents_json_out) {
  constexpr const char* kFn = "spotopt_agent_list";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agents_json_out, "agents_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.ListAgents(tenant_id),
                   ArrayOf(spotopt::protocol::AgentJson), agents_json_out);
  });
}

spotopt_status spotopt_agent_set_enabled(spotopt_controller* controller, const char* tenant_id,
                                         const char* agent_id, int enabled) {
  constexpr const char* kFn = "spotopt_agent_set_enabled";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {agent_id, "agent_id"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return StatusOut(controller->controller.SetEnabled(tenant_id, agent_id, enabled != 0));
  });
}

spotopt_status spotopt_agent_delete(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id) {
  constexpr const char* kFn = "spotopt_agent_delete";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {agent_id, "agent_id"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return StatusOut(controller->controller.DeleteAgent(tenant_id, agent_id));
  });
}

spotopt_status spotopt_agent_events(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id, char** events_json_out) {
  return AgentRead(
      "spotopt_agent_events", controller, tenant_id, agent_id, events_json_out, "events_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListEvents(t, a); },
      ArrayOf(spotopt::protocol::EventJson));
}

spotopt_status spotopt_agent_heartbeat(spotopt_controller* controller, const char* tenant_id,
                                       const char* registration_id, const char* status,
                                       const char* instance_id, const char* instance_type,
                                       const char* az, int64_t* config_version_out) {
  constexpr const char* kFn = "spotopt_agent_heartbeat";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {registration_id, "registration_id"},
                                         {status, "status"},
                                         {config_version_out, "config_version_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto parsed = spotopt::ParseHeartbeatStatus(status);
    if (!parsed.ok()) return Fail(parsed.status());
    spotopt::HeartbeatReport report{.status = *parsed};
    if (instance_id != nullptr) report.instance_id = instance_id;
    if (instance_type != nullptr) report.instance_type = instance_type;
    if (az != nullptr) report.az = az;
    auto config = controller->controller.Heartbeat(tenant_id, registration_id, report);
    if (!config.ok()) return Fail(config.status());
    *config_version_out = config->version;
    return SPOTOPT_OK;
  });
}

// ---- Config ------------------------------------------------------------------------

spotopt_status spotopt_config_get(spotopt_controller* controller, const char* tenant_id,
                                  const char* agent_id, char** config_json_out) {
  return AgentRead(
      "spotopt_config_get", controller, tenant_id, agent_id, config_json_out, "config_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.GetConfig(t, a); },
      spotopt::protocol::ConfigRecordJson);
}

spotopt_status spotopt_config_update(spotopt_controller* controller, const char* tenant_id,
                                     const char* agent_id, const char* patch_json,
                                     int64_t expected_version, char** config_json_out) {
  constexpr const char* kFn = "spotopt_config_update";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {patch_json, "patch_json"},
                                         {config_json_out, "config_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (expected_version < 0) {
      return Fail(
          SPOTOPT_INVALID_ARGUMENT,
          fmt::format("{}: expected_version is {}; use 0 for no check", kFn, expected_version));
    }
    auto patch = spotopt::ParseConfigPatchJson(patch_json);
    if (!patch.ok()) return Fail(patch.status());
    std::optional<int64_t> expected;
    if (expected_version > 0) expected = expected_version;
    return JsonOut(controller->controller.UpdateConfig(tenant_id, agent_id, *patch, expected),
                   spotopt::protocol::ConfigRecordJson, config_json_out);
  });
}

// ---- Commands ----------------------------------------------------------------------

spotopt_status spotopt_command_enqueue_switch(spotopt_controller* controller, const char* tenant_id,
                                              const char* agent_id, const char* request_json,
                                              char** command_json_out) {
  return JsonRequest(
      "spotopt_command_enqueue_switch", controller, tenant_id, agent_id, request_json, true,
      command_json_out, "command_json_out", spotopt::protocol::SwitchRequestFromJson,
      [](spotopt::Controller& c, const char* t, const char* a, const spotopt::SwitchRequest& r) {
        return c.EnqueueSwitch(t, a, r);
      },
      spotopt::protocol::CommandRecordJson);
}

spotopt_status spotopt_command_enqueue_create_replica(spotopt_controller* controller,
                                                      const char* tenant_id, const char* agent_id,
                                                      const char* request_json,
                                                      char** command_json_out) {
  return JsonRequest(
      "spotopt_command_enqueue_create_replica", controller, tenant_id, agent_id, request_json,
      false, command_json_out, "command_json_out", spotopt::protocol::ReplicaRequestFromJson,
      [](spotopt::Controller& c, const char* t, const char* a, const spotopt::ReplicaRequest& r) {
        return c.EnqueueCreateReplica(t, a, r);
      },
      spotopt::protocol::CommandRecordJson);
}

spotopt_status spotopt_command_poll(spotopt_controller* controller, const char* tenant_id,
                                    const char* registration_id, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_poll";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {registration_id, "registration_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto command = controller->controller.PollCommand(tenant_id, registration_id);
    if (!command.ok()) return Fail(command.status());
    *command_json_out =
        *command ? CopyOut(json::serialize(spotopt::protocol::CommandJson(**command))).release()
                 : nullptr;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_command_ack(spotopt_controller* controller, const char* tenant_id,
                                   const char* registration_id, const char* command_id, int success,
                                   const char* message, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_ack";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {registration_id, "registration_id"},
                                         {command_id, "command_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.AckCommand(tenant_id, registration_id, command_id, success != 0,
                                          message == nullptr ? "" : message),
        spotopt::protocol::CommandRecordJson, command_json_out);
  });
}

spotopt_status spotopt_command_cancel(spotopt_controller* controller, const char* tenant_id,
                                      const char* agent_id, const char* command_id,
                                      const char* reason, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_cancel";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {command_id, "command_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.CancelCommand(tenant_id, agent_id, command_id,
                                             reason == nullptr ? "cancelled by operator" : reason),
        spotopt::protocol::CommandRecordJson, command_json_out);
  });
}

spotopt_status spotopt_command_get(spotopt_controller* controller, const char* tenant_id,
                                   const char* command_id, char** command_json_out) {
  constexpr const char* kFn = "spotopt_command_get";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {command_id, "command_id"},
                                         {command_json_out, "command_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.GetCommand(tenant_id, command_id),
                   spotopt::protocol::CommandRecordJson, command_json_out);
  });
}

spotopt_status spotopt_command_list(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id, char** commands_json_out) {
  return AgentRead(
      "spotopt_command_list", controller, tenant_id, agent_id, commands_json_out,
      "commands_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListCommands(t, a); },
      ArrayOf(spotopt::protocol::CommandRecordJson));
}

// ---- Replicas ----------------------------------------------------------------------

spotopt_status spotopt_replica_request(spotopt_controller* controller, const char* tenant_id,
                                       const char* agent_id, const char* request_json,
                                       char** replica_json_out) {
  return JsonRequest(
      "spotopt_replica_request", controller, tenant_id, agent_id, request_json, false,
      replica_json_out, "replica_json_out", spotopt::protocol::ReplicaRequestFromJson,
      [](spotopt::Controller& c, const char* t, const char* a, const spotopt::ReplicaRequest& r) {
        return c.RequestReplica(t, a, r);
      },
      spotopt::protocol::ReplicaRecordJson);
}

spotopt_status spotopt_replica_promote(spotopt_controller* controller, const char* tenant_id,
                                       const char* agent_id, const char* replica_id, int force,
                                       char** replica_json_out) {
  constexpr const char* kFn = "spotopt_replica_promote";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {replica_id, "replica_id"},
                                         {replica_json_out, "replica_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(
        controller->controller.PromoteReplica(tenant_id, agent_id, replica_id, force != 0),
        spotopt::protocol::ReplicaRecordJson, replica_json_out);
  });
}

spotopt_status spotopt_replica_terminate(spotopt_controller* controller, const char* tenant_id,
                                         const char* agent_id, const char* replica_id,
                                         char** replica_json_out) {
  constexpr const char* kFn = "spotopt_replica_terminate";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {agent_id, "agent_id"},
                                         {replica_id, "replica_id"},
                                         {replica_json_out, "replica_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.TerminateReplica(tenant_id, agent_id, replica_id),
                   spotopt::protocol::ReplicaRecordJson, replica_json_out);
  });
}

spotopt_status spotopt_replica_list(spotopt_controller* controller, const char* tenant_id,
                                    const char* agent_id, char** replicas_json_out) {
  return AgentRead(
      "spotopt_replica_list", controller, tenant_id, agent_id, replicas_json_out,
      "replicas_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListReplicas(t, a); },
      ArrayOf(spotopt::protocol::ReplicaRecordJson));
}

// ---- Incidents and switches ------------------------------------------------------------

spotopt_status spotopt_incident_list(spotopt_controller* controller, const char* tenant_id,
                                     const char* agent_id, char** incidents_json_out) {
  return AgentRead(
      "spotopt_incident_list", controller, tenant_id, agent_id, incidents_json_out,
      "incidents_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListIncidents(t, a); },
      ArrayOf(spotopt::protocol::IncidentJson));
}

spotopt_status spotopt_switch_list(spotopt_controller* controller, const char* tenant_id,
                                   const char* agent_id, char** switches_json_out) {
  return AgentRead(
      "spotopt_switch_list", controller, tenant_id, agent_id, switches_json_out,
      "switches_json_out",
      [](spotopt::Controller& c, const char* t, const char* a) { return c.ListSwitches(t, a); },
      ArrayOf(spotopt::protocol::SwitchJson));
}

// ---- Prices and savings ------------------------------------------------------------

spotopt_status spotopt_prices_import(spotopt_controller* controller, const char* tenant_id,
                                     const char* prices_json, int64_t* count_out) {
  constexpr const char* kFn = "spotopt_prices_import";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {prices_json, "prices_json"},
                                         {count_out, "count_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto prices = spotopt::protocol::CatalogPricesFromJson(prices_json);
    if (!prices.ok()) return Fail(prices.status());
    auto count = controller->controller.ImportPrices(tenant_id, *prices);
    if (!count.ok()) return Fail(count.status());
    *count_out = *count;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_price_series(spotopt_controller* controller, const char* tenant_id,
                                    const char* region, const char* az, const char* instance_type,
                                    int64_t from_unix_micros, int64_t to_unix_micros,
                                    const char* view, char** json_out) {
  constexpr const char* kFn = "spotopt_price_series";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {region, "region"},
                                         {instance_type, "instance_type"},
                                         {view, "view"},
                                         {json_out, "json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    const spotopt::Pool pool{region, az == nullptr ? "" : az, instance_type};
    const spotopt::Time from = BoundArg(from_unix_micros);
    const spotopt::Time to = BoundArg(to_unix_micros);
    spotopt::Controller& c = controller->controller;
    const std::string_view v = view;
    if (v == "raw") {
      return JsonOut(c.ListPriceObservations(tenant_id, pool, from, to),
                     ArrayOf(spotopt::protocol::PriceObservationJson), json_out);
    }
    if (v != "clean" && v != "interpolated") {
      return Fail(SPOTOPT_INVALID_ARGUMENT,
                  fmt::format("{}: view: one of raw, clean, interpolated", kFn));
    }
    return JsonOut(c.PriceSeries(tenant_id, pool, from, to,
                                 v == "clean" ? spotopt::SeriesView::kClean
                                              : spotopt::SeriesView::kInterpolated),
                   ArrayOf(spotopt::protocol::CleanPointJson), json_out);
  });
}

spotopt_status spotopt_prices_latest(spotopt_controller* controller, const char* tenant_id,
                                     char** json_out) {
  constexpr const char* kFn = "spotopt_prices_latest";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {json_out, "json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.LatestCleanPrices(tenant_id),
                   ArrayOf(spotopt::protocol::LatestPriceJson), json_out);
  });
}

spotopt_status spotopt_market(spotopt_controller* controller, const char* tenant_id,
                              const char* region, const char* instance_type,
                              char** market_json_out) {
  constexpr const char* kFn = "spotopt_market";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {region, "region"},
                                         {instance_type, "instance_type"},
                                         {market_json_out, "market_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.Market(tenant_id, region, instance_type),
                   spotopt::protocol::MarketJson, market_json_out);
  });
}

spotopt_status spotopt_advisor_load(spotopt_controller* controller, const char* feed_json,
                                    size_t feed_len, int64_t* entries_out) {
  constexpr const char* kFn = "spotopt_advisor_load";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"}, {feed_json, "feed_json"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto entries = controller->controller.LoadAdvisorFeed(std::string_view(feed_json, feed_len));
    if (!entries.ok()) return Fail(entries.status());
    if (entries_out != nullptr) *entries_out = static_cast<int64_t>(*entries);
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_savings(spotopt_controller* controller, const char* tenant_id,
                               const char* agent_id, const char* period, char** figures_json_out) {
  constexpr const char* kFn = "spotopt_savings";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {period, "period"},
                                         {figures_json_out, "figures_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto p = spotopt::ledger::ParsePeriod(period);
    if (!p.ok()) return Fail(p.status());
    return JsonOut(
        controller->controller.Savings(tenant_id, agent_id == nullptr ? "" : agent_id, *p),
        ArrayOf(spotopt::protocol::FiguresJson), figures_json_out);
  });
}

// ---- Agent protocol --------------------------------------------------------------------

spotopt_status spotopt_handle_request(spotopt_controller* controller, const char* method,
                                      const char* target, const char* authorization,
                                      const char* body, size_t body_len, int* http_status_out,
                                      char** response_body_out) {
  constexpr const char* kFn = "spotopt_handle_request";
  return Guard(kFn, [&] {
    if (spotopt_status s =
            Require(kFn, {{controller, "controller"}, {method, "method"}, {target, "target"}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (spotopt_status s = CheckBody(kFn, body, body_len); s != SPOTOPT_OK) return s;
    if (spotopt_status s = Require(
            kFn, {{http_status_out, "http_status_out"}, {response_body_out, "response_body_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    spotopt::protocol::Request request{
        .method = method, .target = target, .body = BodyView(body, body_len)};
    if (authorization != nullptr) request.headers.push_back({"Authorization", authorization});
    const spotopt::protocol::Response response = controller->protocol.Handle(request);
    *response_body_out = CopyOut(response.body).release();
    *http_status_out = response.status;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_handle_http(spotopt_controller* controller, const char* method,
                                   const char* target, const spotopt_header* headers,
                                   size_t header_count, const char* body, size_t body_len,
                                   spotopt_http_response** response_out) {
  constexpr const char* kFn = "spotopt_handle_http";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {method, "method"},
                                         {target, "target"},
                                         {response_out, "response_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    if (headers == nullptr && header_count != 0) {
      return Fail(SPOTOPT_INVALID_ARGUMENT,
                  fmt::format("{}: headers is NULL but header_count is {}", kFn, header_count));
    }
    if (spotopt_status s = CheckBody(kFn, body, body_len); s != SPOTOPT_OK) return s;
    spotopt::protocol::Request request{
        .method = method, .target = target, .body = BodyView(body, body_len)};
    request.headers.reserve(header_count);
    for (size_t i = 0; i < header_count; ++i) {
      if (headers[i].name == nullptr || headers[i].value == nullptr) {
        return Fail(SPOTOPT_INVALID_ARGUMENT,
                    fmt::format("{}: headers[{}] has a NULL name or value", kFn, i));
      }
      request.headers.push_back({headers[i].name, headers[i].value});
    }
    *response_out = new HttpResponse(controller->protocol.Handle(request));
    return SPOTOPT_OK;
  });
}

void spotopt_http_response_free(spotopt_http_response* response) {
  Guard("spotopt_http_response_free", [&] {
    delete static_cast<HttpResponse*>(response);
    return SPOTOPT_OK;
  });
}

}  // extern "C"
