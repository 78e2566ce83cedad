// An agent's config as JSON with the protocol's key names (section 5.3), without
// the derived keys: the agent's GET config, the management API and the decision
// input all write it from here.
#ifndef SPOTOPT_DOMAIN_CONFIG_JSON_H_
#define SPOTOPT_DOMAIN_CONFIG_JSON_H_

#include <boost/json/object.hpp>

#include "spotopt/domain/agent.h"

namespace spotopt {

boost::json::object ConfigJson(const AgentConfig& c);

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_CONFIG_JSON_H_
