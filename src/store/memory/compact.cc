#include "store/memory/compact.h"

#include <string>

namespace spotopt::memory {

namespace {

CompactPlacement Encode(const Placement& p, Interner& names) {
  return {.instance_id = names.Intern(p.instance_id),
          .instance_type = names.Intern(p.instance_type),
          .region = names.Intern(p.region),
          .az = names.Intern(p.az),
          .mode = p.mode};
}

Placement Decode(const CompactPlacement& p, const Interner& names) {
  return {.instance_id = std::string(names[p.instance_id]),
          .instance_type = std::string(names[p.instance_type]),
          .region = std::string(names[p.region]),
          .az = std::string(names[p.az]),
          .mode = p.mode};
}

CompactFacts Encode(const InstanceFacts& f, Interner& names) {
  return {.hostname = f.hostname,
          .private_ip = f.private_ip,
          .public_ip = f.public_ip,
          .instance_type = names.Intern(f.instance_type),
          .az = names.Intern(f.az),
          .ami_id = names.Intern(f.ami_id),
          .agent_version = names.Intern(f.agent_version),
          .mode = f.mode};
}

InstanceFacts Decode(const CompactFacts& f, const Interner& names) {
  return {.hostname = f.hostname,
          .instance_type = std::string(names[f.instance_type]),
          .az = std::string(names[f.az]),
          .ami_id = std::string(names[f.ami_id]),
          .private_ip = f.private_ip,
          .public_ip = f.public_ip,
          .agent_version = std::string(names[f.agent_version]),
          .mode = f.mode};
}

}  // namespace

CompactAgent Encode(const Agent& a, Interner& names) {
  return {.id = PackedId::Intern(a.id, names),
          .tenant_id = names.Intern(a.tenant_id),
          .lifecycle = a.lifecycle,
          .logical_id = a.logical_id,
          .placement = Encode(a.placement, names),
          .fallback_identity = a.fallback_identity,
          .placement_since = a.placement_since,
          .created_at = a.created_at,
          .updated_at = a.updated_at,
          .config = a.config};
}

Agent Decode(const CompactAgent& a, const Interner& names) {
  return {.id = a.id.ToString(names),
          .tenant_id = std::string(names[a.tenant_id]),
          .logical_id = a.logical_id,
          .lifecycle = a.lifecycle,
          .placement = Decode(a.placement, names),
          .placement_since = a.placement_since,
          .config = a.config,
          .fallback_identity = a.fallback_identity,
          .created_at = a.created_at,
          .updated_at = a.updated_at};
}

CompactRegistration Encode(const Registration& r, Interner& names) {
  return {.id = PackedId::Intern(r.id, names),
          .agent_id = PackedId::Intern(r.agent_id, names),
          .tenant_id = names.Intern(r.tenant_id),
          .instance_id = names.Intern(r.instance_id),
          .instance_state = r.instance_state,
          .last_status = r.last_status,
          .facts = Encode(r.facts, names),
          .created_at = r.created_at,
          .last_seen_at = r.last_seen_at,
          .last_cleanup_at = r.last_cleanup_at};
}

Registration Decode(const CompactRegistration& r, const Interner& names) {
  return {.id = r.id.ToString(names),
          .tenant_id = std::string(names[r.tenant_id]),
          .agent_id = r.agent_id.ToString(names),
          .instance_id = std::string(names[r.instance_id]),
          .facts = Decode(r.facts, names),
          .instance_state = r.instance_state,
          .created_at = r.created_at,
          .last_seen_at = r.last_seen_at,
          .last_status = r.last_status,
          .last_cleanup_at = r.last_cleanup_at};
}

CompactRunSegment Encode(const RunSegment& s, Interner& names) {
  return {.id = PackedId::Intern(s.id, names),
          .agent_id = PackedId::Intern(s.agent_id, names),
          .tenant_id = names.Intern(s.tenant_id),
          .instance_id = names.Intern(s.instance_id),
          .role = s.role,
          .placement = Encode(s.placement, names),
          .started_at = s.started_at,
          .ended_at = s.ended_at};
}

RunSegment Decode(const CompactRunSegment& s, const Interner& names) {
  return {.id = s.id.ToString(names),
          .tenant_id = std::string(names[s.tenant_id]),
          .agent_id = s.agent_id.ToString(names),
          .instance_id = std::string(names[s.instance_id]),
          .role = s.role,
          .placement = Decode(s.placement, names),
          .started_at = s.started_at,
          .ended_at = s.ended_at};
}

}  // namespace spotopt::memory
