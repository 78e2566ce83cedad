// Assembling decision::DecisionInput from the store: an agent's own facts (its
// replica, switches, incidents) and the markets of its candidate instance types.
// The fleet run reads the facts of every agent in a few bulk reads; a single decision
// reads one agent's. Internal to the service layer.
#ifndef SPOTOPT_SERVICE_DECISION_INPUT_H_
#define SPOTOPT_SERVICE_DECISION_INPUT_H_

#include <optional>
#include <vector>

#include "service/markets.h"
#include "spotopt/decision/input.h"

namespace spotopt {

// What a decision needs to know about one agent beyond the market.
struct AgentFacts {
  Agent agent;
  std::optional<Replica> replica;  // the live one
  std::vector<Command> commands;   // its switch commands, at least those of the last 8 days
  std::vector<Incident> open_incidents;
};

// How far back AgentFacts::commands must reach: the week the caps count, plus the
// longest a command can wait or run before it closes.
inline constexpr Duration kCommandHistory = absl::Hours(24 * 8);

absl::StatusOr<AgentFacts> LoadAgentFacts(Transaction& tx, Agent agent);

// FailedPrecondition when the agent's instance type or region is unknown: there is no
// market to decide in.
absl::StatusOr<decision::DecisionInput> BuildInput(const AgentFacts& facts, MarketReader& markets,
                                                   decision::Trigger trigger, Time now,
                                                   const ControllerOptions& o);

// A JSON summary of what a decision rested on, for the decision log.
std::string SummarizeInputs(const decision::DecisionInput& in);

}  // namespace spotopt

#endif  // SPOTOPT_SERVICE_DECISION_INPUT_H_
