// Every state machine's full guard table: each state x each event is either the
// listed next state or refused with FailedPrecondition. The expected tables are
// written out from DESIGN.md and the protocol spec, not derived from the code.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <utility>

#include "spotopt/domain/command.h"
#include "spotopt/domain/replica.h"
#include "spotopt/domain/tenant.h"

namespace spotopt {
namespace {

template <class State, class Result>
void CheckCell(const Result& got, std::optional<State> want, std::string_view label) {
  CAPTURE(label);
  if (want) {
    REQUIRE(got.ok());
    CHECK(*got == *want);
  } else {
    REQUIRE_FALSE(got.ok());
    CHECK(absl::IsFailedPrecondition(got.status()));
  }
}

TEST_CASE("tenant guard table") {
  using S = TenantState;
  using E = TenantEvent;
  const std::map<std::pair<S, E>, S> allowed = {
      {{S::kActive, E::kSuspend}, S::kSuspended},
      {{S::kActive, E::kDelete}, S::kDeleted},
      {{S::kSuspended, E::kReactivate}, S::kActive},
      {{S::kSuspended, E::kDelete}, S::kDeleted},
  };
  for (S s : {S::kActive, S::kSuspended, S::kDeleted}) {
    for (E e : {E::kSuspend, E::kReactivate, E::kDelete}) {
      const auto it = allowed.find({s, e});
      CheckCell<S>(NextState(s, e), it == allowed.end() ? std::nullopt : std::optional(it->second),
                   std::string(ToString(s)) + " x " + std::string(ToString(e)));
    }
  }
}

TEST_CASE("command guard table") {
  using S = CommandState;
  using E = CommandEvent;
  const std::map<std::pair<S, E>, S> allowed = {
      {{S::kPending, E::kDeliver}, S::kLeased},   {{S::kPending, E::kExpire}, S::kExpired},
      {{S::kPending, E::kCancel}, S::kCancelled}, {{S::kLeased, E::kSucceed}, S::kSucceeded},
      {{S::kLeased, E::kFail}, S::kFailed},       {{S::kLeased, E::kExpire}, S::kExpired},
      {{S::kLeased, E::kCancel}, S::kCancelled},
  };
  int cells = 0;
  for (S s : {S::kPending, S::kLeased, S::kSucceeded, S::kFailed, S::kExpired, S::kCancelled}) {
    for (E e : {E::kDeliver, E::kSucceed, E::kFail, E::kExpire, E::kCancel}) {
      const auto it = allowed.find({s, e});
      CheckCell<S>(NextState(s, e), it == allowed.end() ? std::nullopt : std::optional(it->second),
                   std::string(ToString(s)) + " x " + std::string(ToString(e)));
      ++cells;
    }
  }
  CHECK(cells == 30);
}

TEST_CASE("replica guard table, for every guard combination") {
  using S = ReplicaState;
  using E = ReplicaEvent;
  // Key: (state, event, has_instance_id, force).
  std::map<std::tuple<S, E, bool, bool>, S> allowed;
  const auto any_guard = [&](S s, E e, S to) {
    for (bool inst : {false, true}) {
      for (bool force : {false, true}) allowed[{s, e, inst, force}] = to;
    }
  };
  any_guard(S::kRequested, E::kLaunch, S::kLaunching);
  for (bool force : {false, true}) {
    allowed[{S::kLaunching, E::kInstanceReported, true, force}] = S::kSyncing;
    allowed[{S::kReady, E::kBeginPromotion, true, force}] = S::kPromoting;
  }
  allowed[{S::kSyncing, E::kBeginPromotion, true, true}] = S::kPromoting;
  any_guard(S::kSyncing, E::kReady, S::kReady);
  any_guard(S::kPromoting, E::kCompletePromotion, S::kPromoted);
  for (S s : {S::kRequested, S::kLaunching, S::kSyncing, S::kReady, S::kPromoting}) {
    any_guard(s, E::kFail, S::kFailed);
  }
  for (S s : {S::kRequested, S::kLaunching, S::kSyncing, S::kReady}) {
    any_guard(s, E::kRetire, S::kTerminating);
  }
  for (S s : {S::kLaunching, S::kSyncing, S::kReady, S::kTerminating}) {
    any_guard(s, E::kConfirmTerminated, S::kTerminated);
  }

  int cells = 0;
  for (int si = 0; si < kReplicaStateCount; ++si) {
    const S s = static_cast<S>(si);
    for (E e : {E::kLaunch, E::kInstanceReported, E::kReady, E::kBeginPromotion,
                E::kCompletePromotion, E::kFail, E::kRetire, E::kConfirmTerminated}) {
      for (bool inst : {false, true}) {
        for (bool force : {false, true}) {
          const auto it = allowed.find({s, e, inst, force});
          CheckCell<S>(NextState(s, e, {inst, force}),
                       it == allowed.end() ? std::nullopt : std::optional(it->second),
                       std::string(ToString(s)) + " x " + std::string(ToString(e)) +
                           (inst ? " +instance" : "") + (force ? " +force" : ""));
          ++cells;
        }
      }
    }
  }
  CHECK(cells == 9 * 8 * 4);
}

TEST_CASE("terminal replica states are final and not live") {
  for (ReplicaState s :
       {ReplicaState::kPromoted, ReplicaState::kFailed, ReplicaState::kTerminated}) {
    CHECK_FALSE(IsLive(s));
  }
  CHECK(IsLive(ReplicaState::kTerminating));
  CHECK(IsLive(ReplicaState::kRequested));
}

}  // namespace
}  // namespace spotopt
