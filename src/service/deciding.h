// Deciding and acting, shared by the fleet run, the preview and the reactions to
// interruption signals: which engine answers for a tenant (with its fallbacks), and
// how a decision becomes a command or a replica. Internal to the service layer.
#ifndef SPOTOPT_SERVICE_DECIDING_H_
#define SPOTOPT_SERVICE_DECIDING_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service/decision_input.h"
#include "spotopt/decision/registry.h"

namespace spotopt {

// The engines a tenant's decisions try, in order: its active engine (the built-in
// rules when it has none), its previous one, then the rules.
std::vector<EngineRef> EngineChain(const Tenant& tenant);
// The first engine of the chain that is registered as activated (null if none): the
// one that answers unless it fails.
std::shared_ptr<const decision::Engine> FirstEngine(const decision::EngineRegistry& engines,
                                                    const std::vector<EngineRef>& chain);
// Whether that engine reads price history.
bool ChainNeedsHistory(const decision::EngineRegistry& engines,
                       const std::vector<EngineRef>& chain);

struct Decided {
  decision::Decision decision;
  std::string engine_asked;  // "name version" of the chain's first engine
  std::string fallback;      // why later engines answered; empty when the first did
};

// The first valid answer along the chain: an engine that is not registered, whose
// sha256 differs from the activated one, that fails or that answers something
// Validate refuses is passed over, and `fallback` says why. Every answer is guarded
// (decision::ApplyGuards) and names the engine that gave it. The rules always answer.
Decided DecideWith(const decision::EngineRegistry& engines, const std::vector<EngineRef>& chain,
                   const decision::DecisionInput& in);

// One agent's decision inside `tx`: its facts, its market, the tenant's chain.
struct AgentDecision {
  decision::DecisionInput input;
  Decided decided;
};
absl::StatusOr<AgentDecision> DecideInTx(Transaction& tx, const decision::EngineRegistry& engines,
                                         const Agent& agent, decision::Trigger trigger, Time now,
                                         const ControllerOptions& o,
                                         std::shared_ptr<const AdvisorFeed> feed);

// What acting on a decision did.
struct Acted {
  bool acted = false;
  std::string command_id;
  std::string replica_id;
  std::string outcome;  // what happened, or why nothing did
};

// Acts on `d` inside `tx`: a switch goes into the command queue (priority 25, 50 when
// urgent, 100 for a reaction to a signal, which `deadline` bounds), a replica is
// requested through the replica listing (for `incident_id` when given), a promotion
// moves the placement. A scheduled decision never replaces a switch already queued.
// Refusals of the queue or the records are outcomes, not errors.
absl::StatusOr<Acted> Act(Transaction& tx, Agent& agent, const decision::Decision& d,
                          decision::Trigger trigger, std::optional<Time> deadline,
                          std::string_view incident_id, Time now);

// A log entry for a decision (not yet stored).
decision::DecisionRecord NewRecord(const Agent& agent, const AgentDecision& d, Time now);

}  // namespace spotopt

#endif  // SPOTOPT_SERVICE_DECIDING_H_
