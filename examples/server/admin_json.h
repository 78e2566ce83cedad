// JSON responses of spotopt-server: the operator's view of each record (the management
// API's shapes live here and nowhere else).
#ifndef SPOTOPT_EXAMPLES_SERVER_ADMIN_JSON_H_
#define SPOTOPT_EXAMPLES_SERVER_ADMIN_JSON_H_

#include <boost/json.hpp>

#include "spotopt/protocol/handler.h"
#include "spotopt/service/controller.h"

namespace spotopt::server {

protocol::Response JsonResponse(int status, const boost::json::value& body);
// Errors look the same on every route: the agent protocol's mapping (section 1.5).
using protocol::ErrorResponse;

boost::json::object TenantJson(const Tenant& t);
boost::json::object AgentJson(const AgentView& v);
boost::json::object ConfigJson(const AgentConfig& c);
boost::json::object CommandJson(const Command& c);
boost::json::object ReplicaJson(const Replica& r);
boost::json::object IncidentJson(const Incident& i);
boost::json::object EventJson(const AgentEvent& e);

}  // namespace spotopt::server

#endif  // SPOTOPT_EXAMPLES_SERVER_ADMIN_JSON_H_
