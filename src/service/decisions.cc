// Decisions: the preview, the fleet run, and the decision log (spotopt/decision/).
#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "service/deciding.h"
#include "service/use_case.h"
#include "spotopt/service/controller.h"

namespace spotopt {
namespace {

constexpr size_t kMaxPage = 1000;
// The fleet run builds this many agents' inputs, lets the engine prepare them at once
// (engine::Prepare: a model predicts them in one call), then decides each.
constexpr size_t kPrepareAgents = 256;

absl::Status CheckPage(const DecisionPage& page) {
  if (page.limit == 0 || page.limit > kMaxPage) return Invalid("limit", "must be from 1 to 1000");
  if (page.before_seq < 0) return Invalid("before", "must not be negative");
  return absl::OkStatus();
}

// A decision of the fleet run waiting for its write: the agent as it was decided for.
struct Pending {
  Agent agent;
  AgentDecision decision;
};

// The agents a run decides for, grouped by tenant, with their facts, and each one's
// latest logged decision key.
struct Scoped {
  Tenant tenant;
  std::vector<AgentFacts> agents;
};
struct Candidates {
  std::vector<Scoped> tenants;
  absl::flat_hash_map<std::string, std::string> latest;
};

bool Decidable(const Agent& a) {
  return a.lifecycle == Lifecycle::kActive && a.config.enabled && a.config.auto_switch;
}

// The whole fleet (or one tenant): bulk reads of every live replica, open incident,
// recent command and latest decision key, joined to the agents in memory.
absl::Status LoadFleet(Transaction& tx, const DecisionScope& scope, Time now, Candidates& out) {
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Transaction::DecisionHead> heads,
                           tx.ListLatestDecisionKeys());
  for (Transaction::DecisionHead& h : heads) out.latest[h.agent_id] = std::move(h.key);
  absl::flat_hash_map<std::string, AgentFacts> facts;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListLiveReplicas());
  for (Replica& r : replicas) facts[r.agent_id].replica = std::move(r);
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> incidents, tx.ListOpenIncidents());
  for (Incident& i : incidents) facts[i.agent_id].open_incidents.push_back(std::move(i));
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> commands,
                           tx.ListCommandsSince(now - kCommandHistory));
  for (Command& c : commands) {
    if (c.is_placement()) facts[c.agent_id].commands.push_back(std::move(c));
  }
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Tenant> tenants, tx.ListTenants());
  for (Tenant& tenant : tenants) {
    if (tenant.state != TenantState::kActive) continue;
    if (!scope.tenant_id.empty() && tenant.id != scope.tenant_id) continue;
    Scoped group{std::move(tenant), {}};
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Agent> agents, tx.ListAgents(group.tenant.id));
    for (Agent& agent : agents) {
      if (!Decidable(agent)) continue;
      AgentFacts& f = facts[agent.id];
      f.agent = std::move(agent);
      group.agents.push_back(std::move(f));
    }
    out.tenants.push_back(std::move(group));
  }
  return absl::OkStatus();
}

// A few agents of one tenant, each with its own reads.
absl::Status LoadAgents(Transaction& tx, const DecisionScope& scope, Candidates& out) {
  absl::StatusOr<Tenant> tenant = tx.GetTenant(scope.tenant_id);
  if (absl::IsNotFound(tenant.status())) return NotFound("tenant");
  if (!tenant.ok()) return tenant.status();
  if (tenant->state != TenantState::kActive) return absl::OkStatus();
  Scoped group{*std::move(tenant), {}};
  for (const std::string& id : scope.agent_ids) {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, scope.tenant_id, id));
    if (!Decidable(agent)) continue;
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<decision::DecisionRecord> latest,
                             tx.ListDecisions(agent.id, 0, 1));
    if (!latest.empty()) out.latest[agent.id] = decision::DecisionKey(latest[0].decision);
    SPOTOPT_ASSIGN_OR_RETURN(AgentFacts f, LoadAgentFacts(tx, std::move(agent)));
    group.agents.push_back(std::move(f));
  }
  out.tenants.push_back(std::move(group));
  return absl::OkStatus();
}

absl::StatusOr<Candidates> LoadCandidates(Transaction& tx, const DecisionScope& scope, Time now) {
  Candidates out;
  SPOTOPT_RETURN_IF_ERROR(scope.agent_ids.empty() ? LoadFleet(tx, scope, now, out)
                                                  : LoadAgents(tx, scope, out));
  return out;
}

// The agent may be acted for only as it was decided for: a placement or config that
// changed since belongs to the next run.
bool Unchanged(const Agent& now, const Agent& decided) {
  return now.lifecycle == Lifecycle::kActive && now.placement == decided.placement &&
         now.config.version == decided.config.version;
}

}  // namespace

absl::StatusOr<DecisionPreview> Controller::Decide(std::string_view tenant_id,
                                                   std::string_view agent_id) {
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<DecisionPreview> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
        SPOTOPT_ASSIGN_OR_RETURN(AgentDecision d,
                                 DecideInTx(tx, *engines_, agent, decision::Trigger::kSchedule, now,
                                            options_, advisor_feed()));
        return DecisionPreview{std::move(d.input), std::move(d.decided.decision),
                               std::move(d.decided.engine_asked), std::move(d.decided.fallback)};
      });
}

absl::StatusOr<DecisionRunReport> Controller::RunDecisions(Time now, const DecisionScope& scope) {
  SPOTOPT_RETURN_IF_ERROR(ValidateTime(now, "now"));
  if (!scope.tenant_id.empty()) SPOTOPT_RETURN_IF_ERROR(CheckId(scope.tenant_id, "tenant"));
  if (!scope.agent_ids.empty() && scope.tenant_id.empty()) {
    return Invalid("scope.agent_ids", "name their tenant in scope.tenant_id");
  }
  DecisionRunReport report;
  std::vector<Pending> pending;
  // Decide for everyone in scope from one snapshot: the whole fleet in a few bulk
  // reads, a few agents with their own reads.
  SPOTOPT_RETURN_IF_ERROR(
      InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::Status {
        report = {};
        pending.clear();
        SPOTOPT_ASSIGN_OR_RETURN(Candidates candidates, LoadCandidates(tx, scope, now));
        for (Scoped& group : candidates.tenants) {
          ++report.tenants;
          const std::vector<EngineRef> chain = EngineChain(group.tenant);
          const std::shared_ptr<const decision::Engine> first = FirstEngine(*engines_, chain);
          MarketReader markets(tx, options_, advisor_feed(), now, first && first->needs_history());
          std::vector<decision::DecisionInput> inputs;
          std::vector<const AgentFacts*> whose;
          for (size_t start = 0; start < group.agents.size(); start += kPrepareAgents) {
            inputs.clear();
            whose.clear();
            const size_t end = std::min(group.agents.size(), start + kPrepareAgents);
            for (size_t k = start; k < end; ++k) {
              absl::StatusOr<decision::DecisionInput> in =
                  BuildInput(group.agents[k], markets, decision::Trigger::kSchedule, now, options_);
              if (absl::IsFailedPrecondition(in.status())) {
                ++report.skipped;
                continue;
              }
              if (!in.ok()) return in.status();
              inputs.push_back(*std::move(in));
              whose.push_back(&group.agents[k]);
            }
            if (first) first->Prepare(inputs);
            for (size_t k = 0; k < inputs.size(); ++k) {
              AgentDecision d{std::move(inputs[k]), {}};
              d.decided = DecideWith(*engines_, chain, d.input);
              ++report.agents;
              report.held += d.decided.decision.guard != decision::Guard::kNone;
              report.fallbacks += !d.decided.fallback.empty();
              const bool act = d.decided.decision.action != decision::Action::kStay;
              const auto head = candidates.latest.find(whose[k]->agent.id);
              if (!act && head != candidates.latest.end() &&
                  head->second == decision::DecisionKey(d.decided.decision)) {
                continue;  // the same as the agent's latest entry
              }
              pending.push_back(Pending{whose[k]->agent, std::move(d)});
            }
          }
        }
        return absl::OkStatus();
      }));

  // Then write in batches, acting only where nothing changed since the snapshot.
  const size_t batch = static_cast<size_t>(std::max(1, options_.decisions_per_write));
  for (size_t first = 0; first < pending.size(); first += batch) {
    const size_t end = std::min(pending.size(), first + batch);
    DecisionRunReport counts;
    SPOTOPT_RETURN_IF_ERROR(
        InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::Status {
          counts = {};
          for (size_t k = first; k < end; ++k) {
            Pending& p = pending[k];
            decision::DecisionRecord record = NewRecord(p.agent, p.decision, now);
            const decision::Decision& d = p.decision.decided.decision;
            if (d.action != decision::Action::kStay) {
              absl::StatusOr<Agent> current = tx.GetAgent(p.agent.id);
              if (!current.ok() && !absl::IsNotFound(current.status())) return current.status();
              if (!current.ok() || !Unchanged(*current, p.agent)) {
                record.outcome = "the agent changed since the decision; the next run decides again";
              } else {
                SPOTOPT_ASSIGN_OR_RETURN(
                    Acted acted,
                    Act(tx, *current, d, decision::Trigger::kSchedule, std::nullopt, "", now));
                record.acted = acted.acted;
                record.command_id = acted.command_id;
                record.replica_id = acted.replica_id;
                record.outcome = acted.outcome;
                ++(acted.acted ? counts.acted : counts.refused);
              }
            } else {
              SPOTOPT_ASSIGN_OR_RETURN(Acted stay, Act(tx, p.agent, d, decision::Trigger::kSchedule,
                                                       std::nullopt, "", now));
              record.outcome = stay.outcome;
            }
            SPOTOPT_RETURN_IF_ERROR(tx.InsertDecision(record).status());
            ++counts.logged;
          }
          return absl::OkStatus();
        }));
    report.logged += counts.logged;
    report.acted += counts.acted;
    report.refused += counts.refused;
  }
  return report;
}

absl::StatusOr<std::vector<decision::DecisionRecord>> Controller::ListDecisions(
    std::string_view tenant_id, std::string_view agent_id, DecisionPage page) {
  SPOTOPT_RETURN_IF_ERROR(CheckPage(page));
  return InTransaction(
      *store_, TxMode::kRead,
      [&](Transaction& tx) -> absl::StatusOr<std::vector<decision::DecisionRecord>> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
        return tx.ListDecisions(a.id, page.before_seq, page.limit);
      });
}

absl::StatusOr<std::vector<decision::DecisionRecord>> Controller::ListTenantDecisions(
    std::string_view tenant_id, DecisionPage page) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  SPOTOPT_RETURN_IF_ERROR(CheckPage(page));
  return InTransaction(
      *store_, TxMode::kRead,
      [&](Transaction& tx) -> absl::StatusOr<std::vector<decision::DecisionRecord>> {
        absl::StatusOr<Tenant> t = tx.GetTenant(tenant_id);
        if (absl::IsNotFound(t.status())) return NotFound("tenant");
        if (!t.ok()) return t.status();
        return tx.ListTenantDecisions(tenant_id, page.before_seq, page.limit);
      });
}

}  // namespace spotopt
