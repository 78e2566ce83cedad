// The operator's JSON views of the decision layer: previews, log entries, fleet runs
// and engines, shared by spotopt-server's management API and the C ABI (and through
// it the Python binding). Internal, like json_views.h.
#ifndef SPOTOPT_PROTOCOL_DECISION_VIEWS_H_
#define SPOTOPT_PROTOCOL_DECISION_VIEWS_H_

#include <boost/json.hpp>

#include "spotopt/service/controller.h"

namespace spotopt::protocol {

// {"decision", "input" (decision/json.h's shape), "engine_asked", "fallback"}.
boost::json::object DecisionPreviewJson(const DecisionPreview& p);
// A log entry: the decision, its trigger and time, what it rested on, the engine asked
// and any fallback, and what acting did.
boost::json::object DecisionRecordJson(const decision::DecisionRecord& r);
boost::json::object DecisionRunJson(const DecisionRunReport& r);
boost::json::object EngineInfoJson(const decision::EngineInfo& e);
boost::json::object EngineRefJson(const EngineRef& e);
boost::json::object TenantEnginesJson(const TenantEngines& e);
// A page of the log from query text: "before" (a seq) and "limit" (1..1000).
absl::StatusOr<DecisionPage> DecisionPageFrom(std::string_view before, std::string_view limit);

}  // namespace spotopt::protocol

#endif  // SPOTOPT_PROTOCOL_DECISION_VIEWS_H_
