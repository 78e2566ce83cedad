// Logical agents, their registrations (one per instance), config and liveness.
#ifndef SPOTOPT_DOMAIN_AGENT_H_
#define SPOTOPT_DOMAIN_AGENT_H_

#include <optional>
#include <string>
#include <vector>

#include "spotopt/types.h"

namespace spotopt {

enum class Lifecycle { kActive, kDeleted };
SPOTOPT_EXPORT std::string_view ToString(Lifecycle l);

enum class ReplicaMode { kOff, kEmergency, kManualStandby };
SPOTOPT_EXPORT std::string_view ToString(ReplicaMode m);  // off | emergency | manual_standby
SPOTOPT_EXPORT absl::StatusOr<ReplicaMode> ParseReplicaMode(std::string_view text);

// One versioned record. `enabled` is the agent's admin state (the server owns it).
struct AgentConfig {
  int64_t version = 1;
  bool enabled = true;
  bool auto_switch = true;
  ReplicaMode replica_mode = ReplicaMode::kEmergency;
  bool auto_terminate = true;
  int64_t terminate_wait_seconds = 300;  // 0 is valid: terminate right away
  double min_savings_percent = 30.0;
  double ondemand_fallback_ratio = 0.8;
  // Hysteresis: back from on-demand to spot only below this fraction of the on-demand
  // price (and with min_savings_percent), so a price near the fallback line cannot make
  // the agent flap. Always below ondemand_fallback_ratio.
  double ondemand_return_ratio = 0.7;
  double risk_threshold = 0.3;
  int64_t max_switches_per_day = 3;
  int64_t max_switches_per_week = 10;
  double min_pool_duration_hours = 2.0;
  // Other instance types the workload can run on (e.g. m5a.large for m5.large): the
  // decision layer also weighs their pools. Agent v4 keeps its instance type, so leave
  // it empty for agent v4 fleets; hosts whose agents can change type list them here.
  std::vector<std::string> compatible_instance_types;

  friend bool operator==(const AgentConfig&, const AgentConfig&) = default;
};

// A partial update: every field that is set is written, the rest kept.
struct AgentConfigPatch {
  std::optional<bool> enabled;
  std::optional<bool> auto_switch;
  std::optional<ReplicaMode> replica_mode;
  std::optional<bool> auto_terminate;
  std::optional<int64_t> terminate_wait_seconds;
  std::optional<double> min_savings_percent;
  std::optional<double> ondemand_fallback_ratio;
  std::optional<double> ondemand_return_ratio;
  std::optional<double> risk_threshold;
  std::optional<int64_t> max_switches_per_day;
  std::optional<int64_t> max_switches_per_week;
  std::optional<double> min_pool_duration_hours;
  std::optional<std::vector<std::string>> compatible_instance_types;
  // The previous dashboard's switch: true selects manual_standby; false turns a
  // manual_standby agent's replicas off and leaves other modes alone.
  std::optional<bool> manual_replica;
};

// Applies a patch to a config, validating every value; an invalid value refuses the
// whole patch. The version increases by one if anything changed.
SPOTOPT_EXPORT absl::StatusOr<AgentConfig> ApplyPatch(const AgentConfig& config,
                                                      const AgentConfigPatch& patch);
// Parses a JSON object of config fields (the protocol's key names, plus the previous
// dashboard's camelCase aliases). Unknown keys and wrong types are refused: config
// writes are exact.
SPOTOPT_EXPORT absl::StatusOr<AgentConfigPatch> ParseConfigPatchJson(std::string_view json);

// A logical agent: the workload identity (tenant, logical id).
struct Agent {
  std::string id;  // server-issued
  std::string tenant_id;
  std::string logical_id;
  Lifecycle lifecycle = Lifecycle::kActive;
  Placement placement;
  Time placement_since;  // when the placement last moved (min time in a pool)
  AgentConfig config;
  // The logical id was the instance id (LOGICAL_AGENT_ID unset on the agent).
  bool fallback_identity = false;
  Time created_at;
  Time updated_at;
};

// A second logical id bound to an agent (fallback identity of a successor instance).
struct AgentAlias {
  std::string tenant_id;
  std::string logical_id;
  std::string agent_id;
  Time created_at;
};

enum class HeartbeatStatus { kOnline, kDisabled, kOffline };
SPOTOPT_EXPORT std::string_view ToString(HeartbeatStatus s);
SPOTOPT_EXPORT absl::StatusOr<HeartbeatStatus> ParseHeartbeatStatus(std::string_view text);

// What became of an instance that is no longer (or not) the primary.
enum class InstanceState { kActive, kRetained, kTerminating, kTerminated, kLost };
SPOTOPT_EXPORT std::string_view ToString(InstanceState s);

// Facts an instance reports about itself; absent = unknown.
struct InstanceFacts {
  std::string hostname;
  std::string instance_type;
  std::string az;
  std::string ami_id;
  std::string private_ip;
  std::string public_ip;
  std::string agent_version;
  std::optional<Mode> mode;
  friend bool operator==(const InstanceFacts&, const InstanceFacts&) = default;
};

// One agent process identity: (logical agent, instance). Its id is the wire `agent_id`.
struct Registration {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  std::string instance_id;
  InstanceFacts facts;
  InstanceState instance_state = InstanceState::kActive;
  Time created_at;
  Time last_seen_at;  // server clock of the last heartbeat or registration
  HeartbeatStatus last_status = HeartbeatStatus::kOnline;
  std::optional<Time> last_cleanup_at;  // of the latest cleanup report
};

// Liveness is computed, never stored.
enum class Liveness { kOnline, kStale, kOffline };
SPOTOPT_EXPORT std::string_view ToString(Liveness l);
// online: last seen <= offline_after/2 ago; stale: <= offline_after; else offline.
// An `offline` heartbeat makes it offline at once.
SPOTOPT_EXPORT Liveness ComputeLiveness(const Registration& r, Time now, Duration offline_after);

// Role of a registration, computed per request.
enum class Role { kPrimary, kReplica, kOther };
SPOTOPT_EXPORT std::string_view ToString(Role r);

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_AGENT_H_
