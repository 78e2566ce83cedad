// The decision log: what was decided for an agent, on what, by which engine, and
// what came of it. Written by the fleet run and by the reactions to interruption
// signals; read by operators (management API, C ABI, Python).
//
// The fleet run decides for every agent every minute; most of those decisions repeat
// the one before (stay, nothing better). A decision whose key (DecisionKey: action,
// target, reason, guard, engine) equals the agent's latest logged one, and that was
// not acted on, is not logged again: the log records changes, and its latest entry
// for an agent holds until a newer one.
#ifndef SPOTOPT_DECISION_RECORD_H_
#define SPOTOPT_DECISION_RECORD_H_

#include <cstdint>
#include <string>

#include "spotopt/decision/decision.h"

namespace spotopt::decision {

struct DecisionRecord {
  int64_t seq = 0;  // per-store sequence, assigned on insert; orders the log
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  Time decided_at;
  Trigger trigger = Trigger::kSchedule;
  Decision decision;
  // What the decision rested on, as a JSON summary: placement, config version, the
  // agent's price and on-demand, and each candidate's price and risk.
  std::string inputs;
  // The engine the tenant asked for ("name version"), and why another one answered
  // (empty: it did): not registered in this process, a sha256 that differs from the
  // activated one, an error, or invalid output.
  std::string engine_asked;
  std::string fallback;
  bool acted = false;
  std::string command_id;  // the switch it queued
  std::string replica_id;  // the replica it requested or promoted
  // What acting did, or why it was not acted on.
  std::string outcome;
  friend bool operator==(const DecisionRecord&, const DecisionRecord&) = default;
};

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_RECORD_H_
