// The C ABI: clocks (manual or a host callback) and the controller's lifecycle: open on
// a store URI, close, tick.
#include "common.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "spotopt/store/open.h"

namespace {

using spotopt::capi::Fail;
using spotopt::capi::Guard;
using spotopt::capi::Require;
using spotopt::capi::StatusOut;

// Asks the host for the time through its callback.
class CallbackClock final : public spotopt::Clock {
 public:
  CallbackClock(spotopt_now_fn now, void* user_data) : now_(now), user_data_(user_data) {}
  spotopt::Time Now() const override { return absl::FromUnixMicros(now_(user_data_)); }

 private:
  spotopt_now_fn now_;
  void* user_data_;
};

spotopt_status Open(const char* store_uri, std::shared_ptr<const spotopt::Clock> clock,
                    spotopt_controller** out) {
  absl::StatusOr<std::unique_ptr<spotopt::Store>> store = spotopt::OpenStore(store_uri);
  if (!store.ok()) return Fail(store.status());
  *out =
      new spotopt_controller(std::shared_ptr<spotopt::Store>(*std::move(store)), std::move(clock));
  return SPOTOPT_OK;
}

}  // namespace

extern "C" {

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

}  // extern "C"
