// The C ABI's shared pieces (common.h) and its library-wide entry points: version,
// last error, free. Every entry point catches everything: a C caller has no way to
// survive a C++ exception.
#include "common.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/json_input.h"

// The header's macros are what C callers compile against; they must not drift from
// the project version the soname is built from. (Equal operands are the point.)
// NOLINTBEGIN(misc-redundant-expression)
static_assert(SPOTOPT_VERSION_MAJOR == SPOTOPT_PROJECT_VERSION_MAJOR &&
                  SPOTOPT_VERSION_MINOR == SPOTOPT_PROJECT_VERSION_MINOR &&
                  SPOTOPT_VERSION_PATCH == SPOTOPT_PROJECT_VERSION_PATCH,
              "capi/spotopt.h version macros differ from the project version");
// NOLINTEND(misc-redundant-expression)

namespace spotopt::capi {
namespace {

// A buffer, not a std::string: the main thread's thread_local objects are destroyed
// before atexit handlers and static destructors run, and a host may well close its
// controller from one of those (a std::string here was then used after its free).
constexpr size_t kMaxLastError = 1024;
thread_local char last_error[kMaxLastError];

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

}  // namespace

spotopt_status Fail(spotopt_status status, std::string_view message) {
  // A C string ends at its first NUL, and a message may quote input that holds one
  // (a JSON key "\u0000..."): it is written as \0, so the message is read whole.
  constexpr size_t kRoom = kMaxLastError - 1;
  size_t n = 0;
  size_t i = 0;
  for (; i < message.size(); ++i) {
    const bool nul = message[i] == '\0';
    if (n + (nul ? 2 : 1) > kRoom) break;
    if (nul) last_error[n++] = '\\';
    last_error[n++] = nul ? '0' : message[i];
  }
  // Cut where a character starts: drop a UTF-8 sequence the buffer could not hold.
  const auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
  while (i < message.size() && n > 0 && continuation(message[i])) {
    --i;
    --n;
  }
  last_error[n] = '\0';
  return status;
}

spotopt_status Fail(const absl::Status& status) {
  return Fail(ToStatus(status.code()),
              std::string_view(status.message().data(), status.message().size()));
}

void ClearLastError() { last_error[0] = '\0'; }

OutString CopyOut(std::string_view s) {
  OutString p(static_cast<char*>(std::malloc(s.size() + 1)));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p.get(), s.data(), s.size());
  p.get()[s.size()] = '\0';
  return p;
}

spotopt_status Require(const char* function, std::initializer_list<Arg> args) {
  for (const Arg& a : args) {
    if (a.value == nullptr) {
      return Fail(SPOTOPT_INVALID_ARGUMENT, fmt::format("{}: {} is NULL", function, a.name));
    }
  }
  return SPOTOPT_OK;
}

spotopt_status StatusOut(const absl::Status& status) {
  return status.ok() ? SPOTOPT_OK : Fail(status);
}

absl::StatusOr<boost::json::object> ObjectArg(const char* text, std::string_view name) {
  if (text == nullptr) return boost::json::object();
  absl::StatusOr<boost::json::object> parsed = spotopt::json::ParseObject(text);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        fmt::format("{}: {}", name, std::string(parsed.status().message())));
  }
  return parsed;
}

Time BoundArg(int64_t us) {
  if (us == INT64_MIN) return absl::InfinitePast();
  if (us == INT64_MAX) return absl::InfiniteFuture();
  return FromMicros(us);
}

}  // namespace spotopt::capi

extern "C" {

const char* spotopt_version(void) {
#define SPOTOPT_STR_(x) #x
#define SPOTOPT_STR(x) SPOTOPT_STR_(x)
  return SPOTOPT_STR(SPOTOPT_VERSION_MAJOR) "." SPOTOPT_STR(SPOTOPT_VERSION_MINOR) "." SPOTOPT_STR(
      SPOTOPT_VERSION_PATCH);
#undef SPOTOPT_STR
#undef SPOTOPT_STR_
}

const char* spotopt_last_error(void) { return spotopt::capi::last_error; }

void spotopt_free(void* p) { std::free(p); }

}  // extern "C"
