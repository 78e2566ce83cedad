// The JSON objects behind spotopt/decision/json.h, for other layers that embed a
// decision in a larger document (the decision log's views).
#ifndef SPOTOPT_DECISION_JSON_OBJECTS_H_
#define SPOTOPT_DECISION_JSON_OBJECTS_H_

#include <boost/json/object.hpp>

#include "spotopt/decision/decision.h"

namespace spotopt::decision {

boost::json::object InputObject(const DecisionInput& in);
boost::json::object DecisionObject(const Decision& d);

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_JSON_OBJECTS_H_
