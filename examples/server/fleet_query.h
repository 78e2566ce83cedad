// The fleet view of the management API's agents list: filter, search, sort and page
// the agents of a tenant, and count the whole fleet by liveness, mode and pool, so a
// dashboard can show 10,000 agents a page at a time without reading them all.
//
// Query keys (all optional; none gives every agent in the Controller's order):
//   lifecycle=active|deleted  liveness=online|stale|offline  mode=spot|ondemand
//   pool=<pool id>            q=<text: case-insensitive part of the logical id, the
//                             agent id, the primary instance id or the pool id>
//   ids=<agent id>,<agent id>,... (exactly these agents: the ones a page of the
//                             decision log names, looked up in one request)
//   sort=name|liveness|mode|pool|since (prefix '-' for descending)
//   offset=N  limit=N (1..1000)
#ifndef SPOTOPT_EXAMPLES_SERVER_FLEET_QUERY_H_
#define SPOTOPT_EXAMPLES_SERVER_FLEET_QUERY_H_

#include <boost/json.hpp>
#include <boost/url/params_view.hpp>

#include <optional>
#include <string>
#include <vector>

#include "spotopt/service/controller.h"

namespace spotopt::server {

inline constexpr size_t kMaxFleetPage = 1000;

struct FleetQuery {
  enum class SortKey { kNone, kName, kLiveness, kMode, kPool, kSince };
  std::optional<Lifecycle> lifecycle;
  std::optional<Liveness> liveness;
  std::optional<Mode> mode;
  std::string pool;              // empty: any
  std::string text;              // lower case; empty: any
  std::vector<std::string> ids;  // sorted; empty: any
  SortKey sort = SortKey::kNone;
  bool descending = false;
  size_t offset = 0;
  std::optional<size_t> limit;  // absent: to the end
};

// InvalidArgument names the key with a bad value.
absl::StatusOr<FleetQuery> ParseFleetQuery(const boost::urls::params_view& params);

struct FleetPage {
  std::vector<const AgentView*> agents;  // the page, in order; point into the input
  size_t matched = 0;                    // agents the filters let through
};

FleetPage SelectFleet(const std::vector<AgentView>& agents, const FleetQuery& query);

// {"active", "deleted", "liveness": {online, stale, offline}, "mode": {spot,
// ondemand}, "pools": {<pool id>: n}} over the active agents (pools: those on spot).
boost::json::object FleetSummaryJson(const std::vector<AgentView>& agents);

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_FLEET_QUERY_H_
