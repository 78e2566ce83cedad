#include "spotopt/domain/agent.h"

#include <cmath>

#include <fmt/format.h>
#include "common/enum_text.h"
#include "common/json_input.h"

namespace spotopt {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}{}{}", field, ": ", why));
}

absl::Status CheckRange(double v, double lo, double hi, std::string_view field) {
  if (!std::isfinite(v) || v < lo || v > hi) {
    return Invalid(field, fmt::format("{}{}{}{}", "must be a number from ", lo, " to ", hi));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(int64_t v, int64_t lo, int64_t hi, std::string_view field) {
  if (v < lo || v > hi)
    return Invalid(field, fmt::format("{}{}{}{}", "must be from ", lo, " to ", hi));
  return absl::OkStatus();
}

// A list of instance types: each a short string with a family and a size
// ("m5a.large"), at most kMaxCompatibleTypes, none twice.
constexpr size_t kMaxCompatibleTypes = 16;
absl::Status CheckInstanceTypes(const std::vector<std::string>& types) {
  constexpr std::string_view kField = "compatible_instance_types";
  if (types.size() > kMaxCompatibleTypes) {
    return Invalid(kField, fmt::format("at most {} instance types", kMaxCompatibleTypes));
  }
  for (size_t i = 0; i < types.size(); ++i) {
    const std::string field = fmt::format("{}[{}]", kField, i);
    if (absl::Status s = ValidateShortString(types[i], field); !s.ok()) return s;
    const size_t dot = types[i].find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 == types[i].size()) {
      return Invalid(field, "must be an instance type such as m5.large");
    }
    for (size_t j = 0; j < i; ++j) {
      if (types[j] == types[i]) return Invalid(field, "appears twice");
    }
  }
  return absl::OkStatus();
}

template <class T>
void Assign(const std::optional<T>& value, T& field, bool& changed) {
  if (value && *value != field) {
    field = *value;
    changed = true;
  }
}

}  // namespace

std::string_view ToString(Lifecycle l) { return l == Lifecycle::kActive ? "active" : "deleted"; }

std::string_view ToString(ReplicaMode m) {
  switch (m) {
    case ReplicaMode::kOff:
      return "off";
    case ReplicaMode::kEmergency:
      return "emergency";
    case ReplicaMode::kManualStandby:
      return "manual_standby";
  }
  return "unknown";
}

absl::StatusOr<ReplicaMode> ParseReplicaMode(std::string_view text) {
  if (auto m = ParseEnum<ReplicaMode>(text)) return *m;
  return Invalid("replica_mode", "must be off, emergency or manual_standby");
}

std::string_view ToString(HeartbeatStatus s) {
  switch (s) {
    case HeartbeatStatus::kOnline:
      return "online";
    case HeartbeatStatus::kDisabled:
      return "disabled";
    case HeartbeatStatus::kOffline:
      return "offline";
  }
  return "unknown";
}

absl::StatusOr<HeartbeatStatus> ParseHeartbeatStatus(std::string_view text) {
  if (auto s = ParseEnum<HeartbeatStatus>(text)) return *s;
  return Invalid("status", "must be online, disabled or offline");
}

std::string_view ToString(InstanceState s) {
  switch (s) {
    case InstanceState::kActive:
      return "active";
    case InstanceState::kRetained:
      return "retained";
    case InstanceState::kTerminating:
      return "terminating";
    case InstanceState::kTerminated:
      return "terminated";
    case InstanceState::kLost:
      return "lost";
  }
  return "unknown";
}

std::string_view ToString(Liveness l) {
  switch (l) {
    case Liveness::kOnline:
      return "online";
    case Liveness::kStale:
      return "stale";
    case Liveness::kOffline:
      return "offline";
  }
  return "unknown";
}

std::string_view ToString(Role r) {
  switch (r) {
    case Role::kPrimary:
      return "primary";
    case Role::kReplica:
      return "replica";
    case Role::kOther:
      return "other";
  }
  return "unknown";
}

Liveness ComputeLiveness(const Registration& r, Time now, Duration offline_after) {
  if (r.last_status == HeartbeatStatus::kOffline) return Liveness::kOffline;
  const Duration age = now - r.last_seen_at;
  if (age <= offline_after / 2) return Liveness::kOnline;
  if (age <= offline_after) return Liveness::kStale;
  return Liveness::kOffline;
}

absl::StatusOr<AgentConfig> ApplyPatch(const AgentConfig& config, const AgentConfigPatch& p) {
  if (p.terminate_wait_seconds) {
    if (auto s = CheckRange(*p.terminate_wait_seconds, 0, 86400, "terminate_wait_seconds");
        !s.ok()) {
      return s;
    }
  }
  if (p.min_savings_percent) {
    if (auto s = CheckRange(*p.min_savings_percent, 0.0, 100.0, "min_savings_percent"); !s.ok()) {
      return s;
    }
  }
  if (p.ondemand_fallback_ratio) {
    if (auto s = CheckRange(*p.ondemand_fallback_ratio, 0.01, 1.0, "ondemand_fallback_ratio");
        !s.ok()) {
      return s;
    }
  }
  if (p.ondemand_return_ratio) {
    if (auto s = CheckRange(*p.ondemand_return_ratio, 0.01, 1.0, "ondemand_return_ratio");
        !s.ok()) {
      return s;
    }
  }
  if (p.risk_threshold) {
    if (auto s = CheckRange(*p.risk_threshold, 0.0, 1.0, "risk_threshold"); !s.ok()) return s;
  }
  if (p.compatible_instance_types) {
    if (auto s = CheckInstanceTypes(*p.compatible_instance_types); !s.ok()) return s;
  }
  if (p.max_switches_per_day) {
    if (auto s = CheckRange(*p.max_switches_per_day, 0, 1000, "max_switches_per_day"); !s.ok()) {
      return s;
    }
  }
  if (p.max_switches_per_week) {
    if (auto s = CheckRange(*p.max_switches_per_week, 0, 7000, "max_switches_per_week"); !s.ok()) {
      return s;
    }
  }
  if (p.min_pool_duration_hours) {
    if (auto s = CheckRange(*p.min_pool_duration_hours, 0.0, 720.0, "min_pool_duration_hours");
        !s.ok()) {
      return s;
    }
  }
  if (p.replica_mode && !IsValidEnum(*p.replica_mode)) {
    return Invalid("replica_mode", "unknown replica mode");
  }
  if (p.replica_mode && p.manual_replica) {
    return Invalid("replica_mode", "give replica_mode or manualReplicaEnabled, not both");
  }

  AgentConfig next = config;
  bool changed = false;
  Assign(p.enabled, next.enabled, changed);
  Assign(p.auto_switch, next.auto_switch, changed);
  Assign(p.replica_mode, next.replica_mode, changed);
  if (p.manual_replica) {
    const ReplicaMode mode = *p.manual_replica ? ReplicaMode::kManualStandby
                             : next.replica_mode == ReplicaMode::kManualStandby ? ReplicaMode::kOff
                                                                                : next.replica_mode;
    Assign(std::optional<ReplicaMode>(mode), next.replica_mode, changed);
  }
  Assign(p.auto_terminate, next.auto_terminate, changed);
  Assign(p.terminate_wait_seconds, next.terminate_wait_seconds, changed);
  Assign(p.min_savings_percent, next.min_savings_percent, changed);
  Assign(p.ondemand_fallback_ratio, next.ondemand_fallback_ratio, changed);
  Assign(p.ondemand_return_ratio, next.ondemand_return_ratio, changed);
  Assign(p.risk_threshold, next.risk_threshold, changed);
  Assign(p.max_switches_per_day, next.max_switches_per_day, changed);
  Assign(p.max_switches_per_week, next.max_switches_per_week, changed);
  Assign(p.min_pool_duration_hours, next.min_pool_duration_hours, changed);
  Assign(p.compatible_instance_types, next.compatible_instance_types, changed);
  if (next.ondemand_return_ratio >= next.ondemand_fallback_ratio) {
    return Invalid(
        p.ondemand_return_ratio ? "ondemand_return_ratio" : "ondemand_fallback_ratio",
        fmt::format("ondemand_return_ratio ({}) must be below ondemand_fallback_ratio ({})",
                    next.ondemand_return_ratio, next.ondemand_fallback_ratio));
  }
  if (next.max_switches_per_day > next.max_switches_per_week) {
    return Invalid("max_switches_per_day", "must not exceed max_switches_per_week");
  }
  if (changed) ++next.version;
  return next;
}

absl::StatusOr<AgentConfigPatch> ParseConfigPatchJson(std::string_view text) {
  absl::StatusOr<boost::json::object> doc = json::ParseObject(text);
  if (!doc.ok()) return doc.status();

  AgentConfigPatch p;
  for (const boost::json::key_value_pair& entry : *doc) {
    const std::string_view key(entry.key().data(), entry.key().size());
    // Config writes are exact: null is not "leave as is".
    if (entry.value().is_null()) return Invalid(key, "must not be null");
    const auto set = [&](auto& out, auto read) -> absl::Status {
      auto value = read(*doc, key);
      if (!value.ok()) return value.status();
      out = **value;
      return absl::OkStatus();
    };
    const auto set_seconds = [&](std::optional<int64_t>& out, int64_t scale) -> absl::Status {
      absl::StatusOr<std::optional<int64_t>> i = json::OptInt(*doc, key);
      if (!i.ok()) return i.status();
      if (**i < 0 || **i > INT64_MAX / scale) return Invalid(key, "out of range");
      out = **i * scale;
      return absl::OkStatus();
    };

    absl::Status s;
    if (key == "enabled") {
      s = set(p.enabled, json::OptBool);
    } else if (key == "auto_switch_enabled" || key == "autoSwitchEnabled") {
      s = set(p.auto_switch, json::OptBool);
    } else if (key == "auto_terminate_enabled" || key == "autoTerminateEnabled") {
      s = set(p.auto_terminate, json::OptBool);
    } else if (key == "manualReplicaEnabled") {
      s = set(p.manual_replica, json::OptBool);
    } else if (key == "replica_mode") {
      absl::StatusOr<std::optional<std::string>> text_mode = json::OptString(*doc, key);
      if (!text_mode.ok()) return text_mode.status();
      absl::StatusOr<ReplicaMode> m = ParseReplicaMode(**text_mode);
      if (!m.ok()) return m.status();
      p.replica_mode = *m;
    } else if (key == "terminate_wait_seconds") {
      s = set_seconds(p.terminate_wait_seconds, 1);
    } else if (key == "terminateWaitMinutes" || key == "terminate_wait_minutes") {
      s = set_seconds(p.terminate_wait_seconds, 60);
    } else if (key == "min_savings_percent") {
      s = set(p.min_savings_percent, json::OptNumber);
    } else if (key == "ondemand_fallback_ratio") {
      s = set(p.ondemand_fallback_ratio, json::OptNumber);
    } else if (key == "ondemand_return_ratio") {
      s = set(p.ondemand_return_ratio, json::OptNumber);
    } else if (key == "risk_threshold") {
      s = set(p.risk_threshold, json::OptNumber);
    } else if (key == "max_switches_per_day") {
      s = set(p.max_switches_per_day, json::OptInt);
    } else if (key == "max_switches_per_week") {
      s = set(p.max_switches_per_week, json::OptInt);
    } else if (key == "min_pool_duration_hours") {
      s = set(p.min_pool_duration_hours, json::OptNumber);
    } else if (key == "compatible_instance_types") {
      s = set(p.compatible_instance_types, json::OptStringList);
    } else if (key == "config_version" || key == "replica_enabled" ||
               key == "manual_replica_enabled" || key == "replica_count") {
      return Invalid(key, "is derived and read-only");
    } else {
      return Invalid(key, "unknown config field");
    }
    if (!s.ok()) return s;
  }
  return p;
}

}  // namespace spotopt
