// Which engine answers for a tenant, and how its answer becomes a command or a replica.
#include "service/deciding.h"

#include <fmt/format.h>

#include "service/use_case.h"
#include "spotopt/decision/guards.h"
#include "spotopt/decision/thresholds.h"

namespace spotopt {
namespace {

std::string Named(const EngineRef& ref) { return fmt::format("{} {}", ref.name, ref.version); }

void Note(std::string& notes, std::string_view note) {
  if (!notes.empty()) notes += "; ";
  notes += note;
}

// The engine behind `ref` if it is registered with the sha256 the tenant activated.
std::optional<decision::RegisteredEngine> Usable(const decision::EngineRegistry& engines,
                                                 const EngineRef& ref, std::string* why) {
  std::optional<decision::RegisteredEngine> found = engines.Find(ref.name, ref.version);
  if (!found) {
    *why = fmt::format("{} is not registered in this process", Named(ref));
    return std::nullopt;
  }
  if (found->info.ref.sha256 != ref.sha256) {
    *why = fmt::format("{} is registered with another sha256 than the one activated", Named(ref));
    return std::nullopt;
  }
  return found;
}

Priority PriorityOf(const decision::Decision& d, decision::Trigger trigger) {
  if (trigger != decision::Trigger::kSchedule) return Priority::kEmergency;
  return d.urgent ? Priority::kUrgent : Priority::kNormal;
}

std::string_view ReplicaType(decision::Trigger trigger) {
  switch (trigger) {
    case decision::Trigger::kRebalance:
      return "automatic-rebalance";
    case decision::Trigger::kTermination:
      return "automatic-termination";
    case decision::Trigger::kSchedule:
      break;
  }
  return "automatic";
}

absl::StatusOr<Acted> Switch(Transaction& tx, const Agent& agent, const decision::Decision& d,
                             decision::Trigger trigger, std::optional<Time> deadline, Time now) {
  Acted out;
  if (trigger == decision::Trigger::kSchedule) {
    // Two runs at once (threads or processes) decide from the same snapshot; the
    // second finds the first one's switch here, under the write lock.
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(agent.id));
    for (const Command& c : open) {
      if (c.is_placement()) {
        out.outcome = fmt::format("switch {} is already queued", c.id);
        return out;
      }
    }
  }
  SwitchRequest req;
  req.target_mode = d.action == decision::Action::kSwitchSpot ? Mode::kSpot : Mode::kOnDemand;
  if (d.target) req.target_pool_id = d.target->id();
  req.priority = PriorityOf(d, trigger);
  req.reason = fmt::format("decision: {}", decision::ToString(d.reason));
  req.requested_by = fmt::format("engine {} {}", d.engine, d.engine_version);
  req.target_risk = d.risk;
  if (deadline) {
    // A reaction to a termination notice is worth nothing after the deadline.
    if (*deadline <= now) {
      out.outcome = "the termination deadline has passed";
      return out;
    }
    req.ttl = *deadline - now;
  }
  absl::StatusOr<Command> c = EnqueueSwitchInTx(tx, agent, req, now, EnqueueCheck::kDecided);
  if (absl::IsFailedPrecondition(c.status())) {
    out.outcome =
        fmt::format("the queue refused the switch: {}", std::string(c.status().message()));
    return out;
  }
  if (!c.ok()) return c.status();
  out.acted = true;
  out.command_id = c->id;
  out.outcome =
      fmt::format("switch {} queued at priority {}", c->id, static_cast<int>(c->priority));
  return out;
}

}  // namespace

std::vector<EngineRef> EngineChain(const Tenant& tenant) {
  std::vector<EngineRef> chain = {tenant.engine.value_or(decision::RulesRef())};
  if (tenant.previous_engine) chain.push_back(*tenant.previous_engine);
  chain.push_back(decision::RulesRef());
  return chain;
}

std::shared_ptr<const decision::Engine> FirstEngine(const decision::EngineRegistry& engines,
                                                    const std::vector<EngineRef>& chain) {
  for (const EngineRef& ref : chain) {
    std::string why;
    if (std::optional<decision::RegisteredEngine> e = Usable(engines, ref, &why)) return e->engine;
  }
  return nullptr;
}

bool ChainNeedsHistory(const decision::EngineRegistry& engines,
                       const std::vector<EngineRef>& chain) {
  const std::shared_ptr<const decision::Engine> first = FirstEngine(engines, chain);
  return first && first->needs_history();
}

Decided DecideWith(const decision::EngineRegistry& engines, const std::vector<EngineRef>& chain,
                   const decision::DecisionInput& in) {
  Decided out;
  out.engine_asked = Named(chain.front());
  for (const EngineRef& ref : chain) {
    std::string why;
    std::optional<decision::RegisteredEngine> e = Usable(engines, ref, &why);
    if (!e) {
      Note(out.fallback, why);
      continue;
    }
    absl::StatusOr<decision::Decision> d = e->engine->Decide(in);
    if (d.ok()) {
      // Named by its registration, whatever the engine wrote.
      d->engine = ref.name;
      d->engine_version = ref.version;
      if (absl::Status valid = decision::Validate(in, *d); !valid.ok()) {
        d = absl::InvalidArgumentError(valid.message());
      }
    }
    if (!d.ok()) {
      Note(out.fallback,
           fmt::format("{} failed: {}", Named(ref), std::string(d.status().message())));
      continue;
    }
    decision::ApplyGuards(in, *d);
    out.decision = *std::move(d);
    return out;
  }
  // The rules are built in and always valid; only a broken build gets here.
  Note(out.fallback, "no engine answered");
  out.decision.engine = "none";
  out.decision.engine_version = "0";
  out.decision.message = "No engine could decide.";
  return out;
}

absl::StatusOr<AgentDecision> DecideInTx(Transaction& tx, const decision::EngineRegistry& engines,
                                         const Agent& agent, decision::Trigger trigger, Time now,
                                         const ControllerOptions& o,
                                         std::shared_ptr<const AdvisorFeed> feed) {
  SPOTOPT_ASSIGN_OR_RETURN(Tenant tenant, tx.GetTenant(agent.tenant_id));
  const std::vector<EngineRef> chain = EngineChain(tenant);
  SPOTOPT_ASSIGN_OR_RETURN(AgentFacts facts, LoadAgentFacts(tx, agent));
  MarketReader markets(tx, o, std::move(feed), now, ChainNeedsHistory(engines, chain));
  AgentDecision out;
  SPOTOPT_ASSIGN_OR_RETURN(out.input, BuildInput(facts, markets, trigger, now, o));
  out.decided = DecideWith(engines, chain, out.input);
  return out;
}

absl::StatusOr<Acted> Act(Transaction& tx, Agent& agent, const decision::Decision& d,
                          decision::Trigger trigger, std::optional<Time> deadline,
                          std::string_view incident_id, Time now) {
  Acted out;
  switch (d.action) {
    case decision::Action::kStay:
      out.outcome = d.guard == decision::Guard::kNone
                        ? "nothing to do"
                        : fmt::format("held back: {}", decision::ToString(d.guard));
      return out;
    case decision::Action::kSwitchSpot:
    case decision::Action::kSwitchOnDemand:
      return Switch(tx, agent, d, trigger, deadline, now);
    case decision::Action::kCreateReplica: {
      if (absl::Status s = CheckCanHaveReplica(tx, agent); !s.ok()) {
        if (!absl::IsFailedPrecondition(s)) return s;
        out.outcome = fmt::format("no replica: {}", std::string(s.message()));
        return out;
      }
      Replica r = NewReplica(agent, *d.target, ReplicaType(trigger), LaunchPath::kListing, now);
      r.incident_id = std::string(incident_id);
      SPOTOPT_RETURN_IF_ERROR(tx.InsertReplica(r));
      out.acted = true;
      out.replica_id = r.id;
      out.outcome = fmt::format("replica {} requested in {}", r.id, d.target->id());
      return out;
    }
    case decision::Action::kPromoteReplica: {
      SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
      if (!live) {
        out.outcome = "no live replica to promote";
        return out;
      }
      const bool termination = trigger == decision::Trigger::kTermination;
      const absl::Status s = PromoteInTx(
          tx, agent, *live, termination && live->state == ReplicaState::kSyncing,
          termination ? PromotionCause::kTermination : PromotionCause::kOperator, now, deadline);
      if (!s.ok()) {
        if (!absl::IsFailedPrecondition(s)) return s;
        out.outcome = fmt::format("no promotion: {}", std::string(s.message()));
        return out;
      }
      out.acted = true;
      out.replica_id = live->id;
      out.outcome = fmt::format("replica {} promoted", live->id);
      return out;
    }
  }
  return absl::InternalError("unknown decision action");
}

decision::DecisionRecord NewRecord(const Agent& agent, const AgentDecision& d, Time now) {
  decision::DecisionRecord r;
  r.id = NewId();
  r.tenant_id = agent.tenant_id;
  r.agent_id = agent.id;
  r.decided_at = now;
  r.trigger = d.input.trigger;
  r.decision = d.decided.decision;
  r.inputs = SummarizeInputs(d.input);
  r.engine_asked = d.decided.engine_asked;
  r.fallback = d.decided.fallback;
  return r;
}

}  // namespace spotopt
