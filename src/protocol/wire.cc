#include "protocol/wire.h"

#include "domain/config_json.h"

namespace spotopt::protocol {

boost::json::value TimeJson(const std::optional<Time>& t) {
  if (!t) return nullptr;
  return boost::json::string(FormatTimestamp(*t));
}

boost::json::object ConfigJson(const AgentConfig& c, int live_replicas) {
  boost::json::object o = spotopt::ConfigJson(c);
  o["replica_enabled"] = c.replica_mode != ReplicaMode::kOff;
  o["manual_replica_enabled"] = c.replica_mode == ReplicaMode::kManualStandby;
  o["replica_count"] = live_replicas;
  return o;
}

boost::json::object CommandJson(const Command& c) {
  boost::json::object o{
      {"id", c.id},
      {"command_type", ToString(c.type)},
      {"agent_id", c.lease_holder},
      {"instance_id", c.issued_for_instance},
      {"target_mode", ToString(c.target_mode)},
      {"terminate_wait_seconds", c.terminate_wait_seconds},
      {"priority", static_cast<int>(c.priority)},
      {"reason", c.reason},
      {"created_at", FormatTimestamp(c.created_at)},
      {"expires_at", FormatTimestamp(c.expires_at)},
  };
  if (c.target_pool_id) {
    o["target_pool_id"] = *c.target_pool_id;
  } else {
    o["target_pool_id"] = nullptr;
  }
  if (c.replica_id) o["replica_id"] = *c.replica_id;
  return o;
}

std::string_view WireStatus(ReplicaState s, bool launch_listing) {
  if (s == ReplicaState::kRequested && launch_listing) return "launching";
  return ToString(s);
}

boost::json::object ReplicaJson(const Replica& r) {
  boost::json::object o{
      {"id", r.id},
      {"pool_id", r.pool.id()},
      {"az", r.pool.az},
      {"instance_type", r.pool.instance_type},
      {"region", r.pool.region},
      {"replica_type", r.replica_type},
      {"created_at", FormatTimestamp(r.created_at)},
      {"pool",
       {{"id", r.pool.id()},
        {"instance_type", r.pool.instance_type},
        {"region", r.pool.region},
        {"az", r.pool.az}}},
  };
  if (r.instance_id.empty()) {
    o["instance_id"] = nullptr;
  } else {
    o["instance_id"] = r.instance_id;
  }
  return o;
}

}  // namespace spotopt::protocol
