// How MemoryStore keeps its records. Agents, registrations and run segments, the
// three rows every agent has, are kept compact: ids packed (packed_id.h), the
// strings many rows share (tenant, region, AZ, instance type, instance, AMI, agent
// version) as interned symbols (intern.h); they are decoded on every read. Other
// records are few per agent and kept as they are.
#ifndef SPOTOPT_STORE_MEMORY_COMPACT_H_
#define SPOTOPT_STORE_MEMORY_COMPACT_H_

#include <optional>
#include <string>
#include <utility>

#include "spotopt/domain/agent.h"
#include "spotopt/domain/run_segment.h"
#include "spotopt/types.h"
#include "store/memory/intern.h"
#include "store/memory/packed_id.h"

namespace spotopt::memory {

struct CompactPlacement {
  Symbol instance_id = Interner::kEmpty;
  Symbol instance_type = Interner::kEmpty;
  Symbol region = Interner::kEmpty;
  Symbol az = Interner::kEmpty;
  Mode mode = Mode::kSpot;
  friend bool operator==(const CompactPlacement&, const CompactPlacement&) = default;
};

struct CompactAgent {
  PackedId id;
  Symbol tenant_id = Interner::kEmpty;
  Lifecycle lifecycle = Lifecycle::kActive;
  std::string logical_id;
  CompactPlacement placement;
  bool fallback_identity = false;
  Time placement_since;
  Time created_at;
  Time updated_at;
  AgentConfig config;
};

struct CompactFacts {
  std::string hostname;
  std::string private_ip;
  std::string public_ip;
  Symbol instance_type = Interner::kEmpty;
  Symbol az = Interner::kEmpty;
  Symbol ami_id = Interner::kEmpty;
  Symbol agent_version = Interner::kEmpty;
  std::optional<Mode> mode;
};

struct CompactRegistration {
  PackedId id;
  PackedId agent_id;
  Symbol tenant_id = Interner::kEmpty;
  Symbol instance_id = Interner::kEmpty;
  InstanceState instance_state = InstanceState::kActive;
  HeartbeatStatus last_status = HeartbeatStatus::kOnline;
  CompactFacts facts;
  Time created_at;
  Time last_seen_at;
  std::optional<Time> last_cleanup_at;
};

struct CompactRunSegment {
  PackedId id;
  PackedId agent_id;
  Symbol tenant_id = Interner::kEmpty;
  Symbol instance_id = Interner::kEmpty;
  RunRole role = RunRole::kPrimary;
  CompactPlacement placement;
  Time started_at;
  std::optional<Time> ended_at;
};

// Stored<R>: the row type of R's table.
template <typename R>
struct StoredAs {
  using Type = R;
};
template <>
struct StoredAs<Agent> {
  using Type = CompactAgent;
};
template <>
struct StoredAs<Registration> {
  using Type = CompactRegistration;
};
template <>
struct StoredAs<RunSegment> {
  using Type = CompactRunSegment;
};
template <typename R>
using Stored = typename StoredAs<R>::Type;

// Encoding interns the record's strings; decoding reads them back.
CompactAgent Encode(const Agent& a, Interner& names);
CompactRegistration Encode(const Registration& r, Interner& names);
CompactRunSegment Encode(const RunSegment& s, Interner& names);
Agent Decode(const CompactAgent& a, const Interner& names);
Registration Decode(const CompactRegistration& r, const Interner& names);
RunSegment Decode(const CompactRunSegment& s, const Interner& names);

// Records kept as they are.
template <typename R>
R Encode(R record, Interner&) {
  return record;
}
template <typename R>
const R& Decode(const R& record, const Interner&) {
  return record;
}

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_COMPACT_H_
