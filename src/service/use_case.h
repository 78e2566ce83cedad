// The toolkit the Controller's use cases share: loading records on behalf of a
// tenant (another tenant's record looks missing), transitions with their
// bookkeeping, placement moves, and the one-transaction runner. Internal to the
// service layer; nothing here is exported.
#ifndef SPOTOPT_SERVICE_USE_CASE_H_
#define SPOTOPT_SERVICE_USE_CASE_H_

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "spotopt/service/controller.h"

#define SPOTOPT_RETURN_IF_ERROR(expr)           \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

#define SPOTOPT_CONCAT_INNER(a, b) a##b
#define SPOTOPT_CONCAT(a, b) SPOTOPT_CONCAT_INNER(a, b)
#define SPOTOPT_ASSIGN_OR_RETURN(lhs, expr) \
  SPOTOPT_ASSIGN_OR_RETURN_IMPL(SPOTOPT_CONCAT(_statusor_, __LINE__), lhs, expr)
#define SPOTOPT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(*tmp)

namespace spotopt {

absl::Status Invalid(std::string_view field, std::string_view why);
// A guard refused the use case (FailedPrecondition; the wire's 409).
absl::Status Refused(std::string_view why);
absl::Status NotFound(std::string_view what);
// Ids from outside: anything that is not a canonical server id cannot name a
// record, so it is simply not found (the wire answers 404 either way).
absl::Status CheckId(std::string_view id, std::string_view what);
// The pipeline's measured buckets of one series' observations (series key 0).
std::vector<sef::MeasuredBucket> Measure(const std::vector<PriceObservation>& observations,
                                         const sef::Options& options);
// The on-demand price steps of (region, type) for the ledger: catalog prices only
// when the tenant has any, so an agent's estimate never outranks a price list.
absl::StatusOr<std::vector<ledger::PriceStep>> OnDemandSteps(Transaction& tx,
                                                             std::string_view tenant_id,
                                                             std::string_view region,
                                                             std::string_view instance_type,
                                                             const sef::Options& o);
// A wire price per protocol section 4: nullopt when absent (unknown); a value that
// is not a valid price is InvalidArgument naming `field`.
absl::StatusOr<std::optional<Money>> ParseReportedPrice(const ReportedPrice& value,
                                                        std::string_view field);
// The same price as a typed refusal: nullopt price and nullopt error when absent.
std::optional<PriceOrError> ReadReportedPrice(const ReportedPrice& value);
absl::Status CheckOptionalTime(const std::optional<Time>& t, std::string_view field);
// Empty means "not given"; anything else must be a valid short string.
absl::Status CheckOptionalShort(std::string_view value, std::string_view field);

// The status of a use case's result, whichever of the two forms it has.
inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <class T>
const absl::Status& StatusOf(const absl::StatusOr<T>& r) {
  return r.status();
}

// Whether a unit of work that failed with `status` on attempt `attempt` (from 1)
// runs again: only a failure the store marks IsRetryable, a few times; pauses a
// short, growing, jittered while first, so that conflicting processes drift apart.
bool RunAgain(const absl::Status& status, int attempt);

// Runs `body` in one transaction and commits if it succeeded; anything else rolls
// back when the transaction is destroyed. A failure the store marks IsRetryable
// (a conflict with a concurrent transaction, a connection lost before commit: none
// of it happened) runs the whole unit of work again (RunAgain), so `body` must leave
// nothing behind but its writes to the transaction and its result: what it fills in
// outside, it resets first.
template <class F>
auto InTransaction(Store& store, TxMode mode, F&& body) -> std::invoke_result_t<F, Transaction&> {
  using Result = std::invoke_result_t<F, Transaction&>;
  for (int attempt = 1;; ++attempt) {
    Result result = [&]() -> Result {
      absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(mode);
      if (!tx.ok()) return Result(tx.status());
      Result r = body(**tx);
      if (!r.ok()) return r;
      if (absl::Status s = (*tx)->Commit(); !s.ok()) return Result(s);
      return r;
    }();
    if (result.ok() || !RunAgain(StatusOf(result), attempt)) return result;
  }
}

AgentEvent MakeEvent(const Agent& agent, EventKind kind, std::string_view instance_id,
                     std::string_view detail, Time now);

// ---- Loading records on behalf of a tenant ----
absl::StatusOr<Agent> LoadAgent(Transaction& tx, std::string_view tenant_id,
                                std::string_view agent_id, bool allow_deleted = false);
struct Caller {
  Registration registration;
  Agent agent;
};
// The registration named on the wire and its logical agent. Registrations of a
// deleted agent are not found.
absl::StatusOr<Caller> LoadCaller(Transaction& tx, std::string_view tenant_id,
                                  std::string_view registration_id);
absl::StatusOr<Command> LoadCommand(Transaction& tx, const Agent& agent,
                                    std::string_view command_id);
absl::StatusOr<Replica> LoadReplica(Transaction& tx, const Agent& agent,
                                    std::string_view replica_id);
absl::StatusOr<std::optional<Replica>> LiveReplica(Transaction& tx, const Agent& agent);
absl::StatusOr<Role> RoleOf(Transaction& tx, const Agent& agent, const Registration& reg);
absl::StatusOr<RegistrationView> ViewOf(Transaction& tx, const Agent& agent, Registration reg,
                                        Time now, const ControllerOptions& o);
absl::StatusOr<AgentView> AgentViewOf(Transaction& tx, Agent agent, Time now,
                                      const ControllerOptions& o);

// ---- Transitions with their bookkeeping ----
// Closed commands record when and why.
absl::Status TransitionCommand(Command& c, CommandEvent event, Time now, std::string_view message);
// Stamps the time the new state was entered.
absl::Status TransitionReplica(Replica& r, ReplicaEvent event, Time now, bool force = false);
absl::Status FailReplica(Transaction& tx, Replica r, std::string_view why, Time now);
// Closes every open command issued for `instance_id`, except `keep_id`.
absl::Status CancelCommandsFor(Transaction& tx, const Agent& agent, std::string_view instance_id,
                               std::string_view keep_id, std::string_view why, Time now);
// Moves the agent's placement to `next`. Commands issued for the old primary are
// cancelled (but `keep_command_id`); the old primary's registration, if any, gets
// `old_fate`.
// The agent's placement just became what agent.placement says (a new agent, a
// refresh of its facts, a move): closes the open primary run segment of
// `previous_instance` (or of the same instance in another market) and opens one for
// the placement, so the ledger knows who ran where. A no-op when nothing changed.
absl::Status RecordPrimaryRun(Transaction& tx, const Agent& agent,
                              std::string_view previous_instance, Time now);
// Closes `instance`'s open primary run segment at `at` (not before it started): the
// instance stopped running then, whatever the placement says (reclaimed by AWS).
absl::Status EndPrimaryRun(Transaction& tx, const Agent& agent, std::string_view instance, Time at);
// When AWS reclaimed `instance`: the earliest deadline of its termination notices that
// has passed by `now`; nullopt when none has.
absl::StatusOr<std::optional<Time>> ReclaimedAt(Transaction& tx, const Agent& agent,
                                                std::string_view instance, Time now);
// `old_runs_until`: when the old primary stops running. Later than now: it is billed
// until then as a drain run segment (a switch's terminate wait, a termination
// deadline). Earlier: it was already gone then (reclaimed at a deadline). nullopt: it
// stops counting now (retained, lost or demoted).
absl::Status MovePlacement(Transaction& tx, Agent& agent, const Placement& next,
                           InstanceState old_fate, std::string_view keep_command_id,
                           std::string_view why, Time now,
                           std::optional<Time> old_runs_until = std::nullopt);

// ---- Rules shared by several use cases ----
// The wire value of terminate_wait_seconds for a switch (protocol section 6.1).
int64_t WireTerminateWait(const AgentConfig& config);
// The pool a replica of the agent launches in; empty = the primary's pool.
absl::StatusOr<Pool> ResolveReplicaPool(const Agent& agent, std::string_view pool_id);
Replica NewReplica(const Agent& agent, Pool pool, std::string_view type, LaunchPath path, Time now);
// replica_mode allows a replica and the agent has no live one.
absl::Status CheckCanHaveReplica(Transaction& tx, const Agent& agent);
// A delivered placement command is LEASED, or closed within the successor window
// (plus its terminate wait): a successor may still show up for it.
bool InSuccessorWindow(const Command& c, const ControllerOptions& o, Time now);

// ---- Use-case bodies shared by several entry points ----
absl::Status ValidateSignalReport(const SignalReport& report);
// Upserts the incident keyed (agent, instance, signal, notice time); a new incident
// of a standby marks the standby lost.
absl::StatusOr<SignalResult> UpsertIncident(Transaction& tx, const Caller& caller,
                                            const SignalReport& report, Time now);
// Why a replica is promoted: an operator's promotion demotes the old primary to a
// standby in manual_standby mode, else retains it; a termination notice leaves it
// terminating (it is being reclaimed).
enum class PromotionCause { kOperator, kTermination };
// READY -> PROMOTING -> PROMOTED (from SYNCING only with force inside an open
// termination deadline), and the placement moves to the replica's instance.
// `old_runs_until`: see MovePlacement (a termination deadline).
absl::Status PromoteInTx(Transaction& tx, Agent& agent, Replica& r, bool force,
                         PromotionCause cause, Time now,
                         std::optional<Time> old_runs_until = std::nullopt);
absl::Status ValidateSwitchRequest(const SwitchRequest& req);
// Which of the config's limits an enqueue checks. A decision of the decision layer
// passed the guards (spotopt/decision/guards.h) with the whole market in view, so its
// saving and risk are not asked again; the caps and the cooldown are, inside the
// transaction, against whatever committed since the decision was made.
enum class EnqueueCheck { kFull, kDecided };
// The enqueue guards and dedup rules of protocol section 6.5, inside `tx`. Every
// refusal comes before the first write.
absl::StatusOr<Command> EnqueueSwitchInTx(Transaction& tx, const Agent& agent,
                                          const SwitchRequest& req, Time now,
                                          EnqueueCheck check = EnqueueCheck::kFull);
// The agent's switch record for (old instance, new instance), or a new one (not yet
// stored; *existed says which).
absl::StatusOr<SwitchRecord> FindOrNewSwitch(Transaction& tx, const Agent& agent,
                                             std::string_view old_instance,
                                             std::string_view new_instance, Time now,
                                             bool* existed);

}  // namespace spotopt

#endif  // SPOTOPT_SERVICE_USE_CASE_H_
