// What every area of the C ABI shares: the opaque handles, the per-thread error
// channel, library-allocated outputs, and the argument and JSON helpers that give
// each entry point the same shape. Internal: never installed.
#ifndef SPOTOPT_CAPI_COMMON_H_
#define SPOTOPT_CAPI_COMMON_H_

#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_output.h"
#include "protocol/json_views.h"
#include "spotopt/clock.h"
#include "spotopt/protocol/handler.h"
#include "spotopt/service/controller.h"
#include "spotopt/spotopt.h"

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

namespace spotopt::capi {

// Sets the calling thread's last error (spotopt_last_error) and returns `status`.
// Messages longer than 1023 bytes are cut at a character boundary.
spotopt_status Fail(spotopt_status status, std::string_view message);
spotopt_status Fail(const absl::Status& status);
void ClearLastError();

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using OutString = std::unique_ptr<char, FreeDeleter>;

// A malloc'd copy, so spotopt_free is plain free() whatever the output was. Held
// until every output of a call exists, so a failed allocation writes none of them.
OutString CopyOut(std::string_view s);

// Runs `body` with the thread's last error cleared, translating any exception.
template <typename F>
spotopt_status Guard(const char* function, F&& body) {
  ClearLastError();
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
spotopt_status Require(const char* function, std::initializer_list<Arg> args);

// Writes the JSON of a call's result to *out, or fails with its status.
template <typename T, typename Render>
spotopt_status JsonOut(const absl::StatusOr<T>& result, Render render, char** out) {
  if (!result.ok()) return Fail(result.status());
  *out = CopyOut(json::Serialize(render(*result))).release();
  return SPOTOPT_OK;
}

spotopt_status StatusOut(const absl::Status& status);

// An optional JSON object argument: NULL is {}.
absl::StatusOr<boost::json::object> ObjectArg(const char* text, std::string_view name);

// A time bound of the C ABI: INT64_MIN and INT64_MAX are open ends.
Time BoundArg(int64_t us);

// Hosts that do not say who asked are recorded as this.
constexpr const char* kDefaultRequestedBy = "capi";

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
  return [to_json](const auto& items) { return protocol::JsonArray(items, to_json); };
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

}  // namespace spotopt::capi

#endif  // SPOTOPT_CAPI_COMMON_H_
