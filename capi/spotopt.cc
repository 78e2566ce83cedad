// The C ABI over the Controller and the agent protocol handler. Every entry point
// catches everything: a C caller has no way to survive a C++ exception.
#include "spotopt/spotopt.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

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

struct spotopt_controller {
  // The protocol handler keeps a reference to the Controller, so both live here and
  // are destroyed together.
  explicit spotopt_controller(std::shared_ptr<spotopt::Store> store)
      : controller(std::move(store), std::make_shared<spotopt::SystemClock>()),
        protocol(controller) {}
  spotopt::Controller controller;
  spotopt::protocol::AgentProtocol protocol;
};

namespace {

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
OutString CopyOut(const std::string& s) {
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

spotopt_status NullArgument(const char* function, const char* argument) {
  return Fail(SPOTOPT_INVALID_ARGUMENT, fmt::format("{}: {} is NULL", function, argument));
}

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

spotopt_status spotopt_controller_open(const char* store_uri, spotopt_controller** out) {
  constexpr const char* kFn = "spotopt_controller_open";
  return Guard(kFn, [&] {
    if (store_uri == nullptr) return NullArgument(kFn, "store_uri");
    if (out == nullptr) return NullArgument(kFn, "out");
    auto store = OpenStore(store_uri);
    if (!store.ok()) return Fail(store.status());
    *out = new spotopt_controller(std::move(*store));
    return SPOTOPT_OK;
  });
}

void spotopt_controller_close(spotopt_controller* controller) {
  // Destructors do not throw here; the guard only keeps the no-exception promise.
  Guard("spotopt_controller_close", [&] {
    delete controller;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_tenant_create(spotopt_controller* controller, const char* name,
                                     char** tenant_id_out, char** token_out) {
  constexpr const char* kFn = "spotopt_tenant_create";
  return Guard(kFn, [&] {
    if (controller == nullptr) return NullArgument(kFn, "controller");
    if (name == nullptr) return NullArgument(kFn, "name");
    if (tenant_id_out == nullptr) return NullArgument(kFn, "tenant_id_out");
    if (token_out == nullptr) return NullArgument(kFn, "token_out");
    auto created = controller->controller.CreateTenant(name);
    if (!created.ok()) return Fail(created.status());
    OutString id = CopyOut(created->tenant.id);
    OutString token = CopyOut(created->token);
    *tenant_id_out = id.release();
    *token_out = token.release();
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_tick(spotopt_controller* controller, int64_t now_unix_micros) {
  constexpr const char* kFn = "spotopt_tick";
  return Guard(kFn, [&] {
    if (controller == nullptr) return NullArgument(kFn, "controller");
    auto report = controller->controller.Tick(absl::FromUnixMicros(now_unix_micros));
    if (!report.ok()) return Fail(report.status());
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_handle_request(spotopt_controller* controller, const char* method,
                                      const char* target, const char* authorization,
                                      const char* body, size_t body_len, int* http_status_out,
                                      char** response_body_out) {
  constexpr const char* kFn = "spotopt_handle_request";
  return Guard(kFn, [&] {
    if (controller == nullptr) return NullArgument(kFn, "controller");
    if (method == nullptr) return NullArgument(kFn, "method");
    if (target == nullptr) return NullArgument(kFn, "target");
    if (body == nullptr && body_len != 0) {
      return Fail(SPOTOPT_INVALID_ARGUMENT,
                  fmt::format("{}: body is NULL but body_len is {}", kFn, body_len));
    }
    if (http_status_out == nullptr) return NullArgument(kFn, "http_status_out");
    if (response_body_out == nullptr) return NullArgument(kFn, "response_body_out");
    spotopt::protocol::Request request{
        .method = method,
        .target = target,
        .body = body == nullptr ? std::string_view() : std::string_view(body, body_len)};
    if (authorization != nullptr) request.headers.push_back({"Authorization", authorization});
    const spotopt::protocol::Response response = controller->protocol.Handle(request);
    *response_body_out = CopyOut(response.body).release();
    *http_status_out = response.status;
    return SPOTOPT_OK;
  });
}

}  // extern "C"
