// Decisions and their inputs as JSON text: what a host's engine (C ABI callback,
// Python callable) reads and answers, and what the decision log shows.
//
// The input (version kInputVersion):
//   {"version": 1, "trigger": "schedule|rebalance|termination", "now": RFC 3339,
//    "agent": {"id", "placement": {"instance_id", "instance_type", "region", "az",
//              "mode"}, "placement_since", "switch_pending", "switch_in_flight",
//              "replica": null | {"id", "state", "pool_id", "has_instance"}},
//    "config": {the protocol's config keys},
//    "history": {"switches": [times], "switches_day", "switches_week",
//                "incidents": [{"signal", "instance_id", "notice_time", "deadline"}]},
//    "market": {"on_demand_micros": int | null, "max_price_age_seconds",
//               "gap_seconds", "signal_window_seconds",
//               "pools": [{"pool_id", "region", "az", "instance_type",
//                          "price": null | {"micros", "observed_at", "age_seconds",
//                                           "source", "confidence", "stale", "in_gap"},
//                          "on_demand_micros", "volatility_hour", "volatility_day",
//                          "advisor": null | {"band", "label", "savings_percent"},
//                          "terminations", "rebalances", "risk",
//                          "history": absent | {"mean_micros", "min_micros",
//                                               "max_micros", "deviation_day",
//                                               "changes", "since_change_seconds"}}]}}
// Money is integer micro-dollars per hour; `risk` is the built-in risk model's.
//
// A host engine answers:
//   {"action": "stay|switch_spot|switch_ondemand|create_replica|promote_replica",
//    "target_pool_id": "<type>.<az>" (switch_spot, create_replica), "reason": a
//    Reason's text, "message": text, "risk": 0..1, "expected_savings_micros": int,
//    "confidence": 0..1, "urgent": bool}
// Only "action" is required; unknown keys are refused. The engine's name and version
// come from its registration, and the guards are applied afterwards.
#ifndef SPOTOPT_DECISION_JSON_H_
#define SPOTOPT_DECISION_JSON_H_

#include <string>
#include <string_view>

#include "spotopt/decision/decision.h"

namespace spotopt::decision {

SPOTOPT_EXPORT std::string InputToJson(const DecisionInput& in);
// A host engine's answer for `in`; InvalidArgument naming the field when it is not
// one. The result still has to pass Validate.
SPOTOPT_EXPORT absl::StatusOr<Decision> DecisionFromJson(std::string_view json_text,
                                                         const DecisionInput& in);
// Every field of a decision, for logs and APIs.
SPOTOPT_EXPORT std::string DecisionToJson(const Decision& d);

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_JSON_H_
