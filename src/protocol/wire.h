// Records in the shapes the deployed agent reads (protocol sections 5 and 6.1).
#ifndef SPOTOPT_PROTOCOL_WIRE_H_
#define SPOTOPT_PROTOCOL_WIRE_H_

#include <boost/json.hpp>

#include "spotopt/service/controller.h"

namespace spotopt::protocol {

boost::json::object ConfigJson(const AgentConfig& config, int live_replicas);
boost::json::object CommandJson(const Command& c);
// A replica listing item: the keys the agent reads at the top level (`id`,
// `pool_id`, `az`) plus the previous backend's nested `pool`.
boost::json::object ReplicaJson(const Replica& r);
// The wire status of a replica; REQUESTED is `launching` in the launch-work listing.
std::string_view WireStatus(ReplicaState s, bool launch_listing);
boost::json::value TimeJson(const std::optional<Time>& t);

}  // namespace spotopt::protocol

#endif  // SPOTOPT_PROTOCOL_WIRE_H_
