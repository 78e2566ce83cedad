// Text of the domain enums: each enum has ToString() in its domain header; this
// turns those into parsers so every spelling lives in exactly one place.
#ifndef SPOTOPT_COMMON_ENUM_TEXT_H_
#define SPOTOPT_COMMON_ENUM_TEXT_H_

#include <optional>
#include <string_view>

#include "spotopt/decision/decision.h"
#include "spotopt/domain/agent.h"
#include "spotopt/domain/command.h"
#include "spotopt/domain/incident.h"
#include "spotopt/domain/replica.h"
#include "spotopt/domain/report.h"
#include "spotopt/domain/run_segment.h"
#include "spotopt/domain/tenant.h"

namespace spotopt {

// Number of values of a dense enum (0 .. N-1).
template <class E>
struct EnumCount;
template <>
struct EnumCount<Mode> {
  static constexpr int value = 2;
};
template <>
struct EnumCount<TenantState> {
  static constexpr int value = 3;
};
template <>
struct EnumCount<Lifecycle> {
  static constexpr int value = 2;
};
template <>
struct EnumCount<Liveness> {
  static constexpr int value = 3;
};
template <>
struct EnumCount<ReplicaMode> {
  static constexpr int value = 3;
};
template <>
struct EnumCount<HeartbeatStatus> {
  static constexpr int value = 3;
};
template <>
struct EnumCount<InstanceState> {
  static constexpr int value = 5;
};
template <>
struct EnumCount<CommandType> {
  static constexpr int value = 2;
};
template <>
struct EnumCount<CommandState> {
  static constexpr int value = 6;
};
template <>
struct EnumCount<ReplicaState> {
  static constexpr int value = kReplicaStateCount;
};
template <>
struct EnumCount<LaunchPath> {
  static constexpr int value = 2;
};
template <>
struct EnumCount<Signal> {
  static constexpr int value = 2;
};
template <>
struct EnumCount<EventKind> {
  static constexpr int value = 7;
};

template <>
struct EnumCount<PriceKind> {
  static constexpr int value = 2;
};
template <>
struct EnumCount<PriceSource> {
  static constexpr int value = 3;
};
template <>
struct EnumCount<RunRole> {
  static constexpr int value = 3;
};
template <>
struct EnumCount<decision::Trigger> {
  static constexpr int value = 3;
};
template <>
struct EnumCount<decision::Action> {
  static constexpr int value = 5;
};
template <>
struct EnumCount<decision::Reason> {
  static constexpr int value = 9;
};
template <>
struct EnumCount<decision::Guard> {
  static constexpr int value = 17;
};

// Whether `e` is one of the enum's values (a cast from an integer may not be).
template <class E>
bool IsValidEnum(E e) {
  const auto i = static_cast<int>(e);
  return i >= 0 && i < EnumCount<E>::value;
}

// The value whose ToString() is exactly `text`.
template <class E>
std::optional<E> ParseEnum(std::string_view text) {
  for (int i = 0; i < EnumCount<E>::value; ++i) {
    const E e = static_cast<E>(i);
    if (ToString(e) == text) return e;
  }
  return std::nullopt;
}

}  // namespace spotopt

#endif  // SPOTOPT_COMMON_ENUM_TEXT_H_
