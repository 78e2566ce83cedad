#include "admin_json.h"

#include "protocol/wire.h"

namespace spotopt::server {
namespace {

boost::json::value OptionalTime(const std::optional<Time>& t) { return protocol::TimeJson(t); }

// Ids that are not set yet are null, not "".
boost::json::value IdOrNull(const std::string& id) {
  if (id.empty()) return nullptr;
  return boost::json::string(id);
}

boost::json::object PlacementJson(const Placement& p) {
  return {{"instance_id", p.instance_id},
          {"instance_type", p.instance_type},
          {"region", p.region},
          {"az", p.az},
          {"mode", ToString(p.mode)},
          {"pool_id", p.pool() ? boost::json::value(p.pool()->id()) : nullptr}};
}

boost::json::object RegistrationJson(const RegistrationView& v) {
  const Registration& r = v.registration;
  return {{"agent_id", r.id},
          {"instance_id", r.instance_id},
          {"role", ToString(v.role)},
          {"liveness", ToString(v.liveness)},
          {"instance_state", ToString(r.instance_state)},
          {"last_status", ToString(r.last_status)},
          {"last_seen_at", FormatTimestamp(r.last_seen_at)},
          {"created_at", FormatTimestamp(r.created_at)},
          {"hostname", r.facts.hostname},
          {"instance_type", r.facts.instance_type},
          {"az", r.facts.az},
          {"agent_version", r.facts.agent_version}};
}

}  // namespace

protocol::Response JsonResponse(int status, const boost::json::value& body) {
  return protocol::JsonResponse(status, boost::json::serialize(body));
}

boost::json::object TenantJson(const Tenant& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"state", ToString(t.state)},
          {"created_at", FormatTimestamp(t.created_at)},
          {"updated_at", FormatTimestamp(t.updated_at)}};
}

boost::json::object ConfigJson(const AgentConfig& c) {
  boost::json::object o = protocol::ConfigJson(c, 0);
  o.erase("replica_count");  // the agent view carries live_replicas once
  return o;
}

boost::json::object AgentJson(const AgentView& v) {
  const Agent& a = v.agent;
  boost::json::array registrations;
  for (const RegistrationView& r : v.registrations) registrations.push_back(RegistrationJson(r));
  return {{"id", a.id},
          {"logical_agent_id", a.logical_id},
          {"lifecycle", ToString(a.lifecycle)},
          {"enabled", a.config.enabled},
          {"liveness", ToString(v.liveness)},
          {"placement", PlacementJson(a.placement)},
          {"placement_since", FormatTimestamp(a.placement_since)},
          {"live_replicas", v.live_replicas},
          {"fallback_identity", a.fallback_identity},
          {"config", ConfigJson(a.config)},
          {"registrations", std::move(registrations)},
          {"created_at", FormatTimestamp(a.created_at)},
          {"updated_at", FormatTimestamp(a.updated_at)}};
}

boost::json::object CommandJson(const Command& c) {
  // The agent's shape plus what only operators see: state, lease and outcome.
  boost::json::object o = protocol::CommandJson(c);
  o["agent_id"] = c.agent_id;
  o["lease_holder"] = IdOrNull(c.lease_holder);
  o["state"] = ToString(c.state);
  o["requested_by"] = c.requested_by;
  o["override_limits"] = c.override_limits;
  o["leased_at"] = OptionalTime(c.leased_at);
  o["lease_expires_at"] = OptionalTime(c.lease_expires_at);
  o["closed_at"] = OptionalTime(c.closed_at);
  o["result_message"] = c.result_message;
  return o;
}

boost::json::object ReplicaJson(const Replica& r) {
  boost::json::object o = protocol::ReplicaJson(r);
  o["agent_id"] = r.agent_id;
  o["state"] = ToString(r.state);
  o["launch_path"] = ToString(r.launch_path);
  o["command_id"] = IdOrNull(r.command_id);
  o["incident_id"] = IdOrNull(r.incident_id);
  o["forced_promotion"] = r.forced_promotion;
  o["error"] = r.error;
  o["updated_at"] = FormatTimestamp(r.updated_at);
  return o;
}

boost::json::object IncidentJson(const Incident& i) {
  return {{"id", i.id},
          {"agent_id", i.agent_id},
          {"instance_id", i.instance_id},
          {"signal", ToString(i.signal)},
          {"notice_time", FormatTimestamp(i.notice_time)},
          {"deadline", OptionalTime(i.deadline)},
          {"first_seen", FormatTimestamp(i.first_seen)},
          {"last_seen", FormatTimestamp(i.last_seen)},
          {"repeat_count", i.repeat_count},
          {"closed_at", OptionalTime(i.closed_at)},
          {"detected_at", OptionalTime(i.detected_at)},
          {"decided_at", OptionalTime(i.decided_at)},
          {"promoted_at", OptionalTime(i.promoted_at)},
          {"healthy_at", OptionalTime(i.healthy_at)},
          {"decision", i.decision},
          {"replica_id", i.replica_id},
          {"command_id", i.command_id}};
}

boost::json::object EventJson(const AgentEvent& e) {
  return {{"id", e.id},
          {"agent_id", e.agent_id},
          {"kind", ToString(e.kind)},
          {"instance_id", e.instance_id},
          {"detail", e.detail},
          {"at", FormatTimestamp(e.at)}};
}

}  // namespace spotopt::server
