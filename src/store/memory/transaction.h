// MemoryStore's unit of work. One class, defined over several files by concern:
// transaction.cc has its lifecycle (commit, and rollback by the undo log);
// tenants.cc, agents.cc, commands.cc, replicas.cc, prices.cc, history.cc and
// decisions.cc hold the record operations of their tables.
#ifndef SPOTOPT_STORE_MEMORY_TRANSACTION_H_
#define SPOTOPT_STORE_MEMORY_TRANSACTION_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spotopt/store/store.h"
#include "store/memory/state.h"

namespace spotopt::memory {

class MemoryTransaction final : public Transaction {
 public:
  // The caller holds the lock for `mode`; the transaction releases it.
  MemoryTransaction(Database* state, TxMode mode);
  ~MemoryTransaction() override;

  MemoryTransaction(const MemoryTransaction&) = delete;
  MemoryTransaction& operator=(const MemoryTransaction&) = delete;

  absl::Status Commit() override;

  // Tenants and API tokens (tenants.cc).
  absl::StatusOr<Tenant> GetTenant(std::string_view id) override;
  absl::Status InsertTenant(const Tenant& t) override;
  absl::Status UpdateTenant(const Tenant& t) override;
  absl::StatusOr<std::vector<Tenant>> ListTenants() override;
  absl::StatusOr<ApiToken> GetToken(std::string_view prefix) override;
  absl::Status InsertToken(const ApiToken& t) override;
  absl::Status UpdateToken(const ApiToken& t) override;
  absl::StatusOr<std::vector<ApiToken>> ListTokens(std::string_view tenant_id) override;

  // Agents, aliases and registrations (agents.cc).
  absl::StatusOr<Agent> GetAgent(std::string_view id) override;
  absl::StatusOr<Agent> FindAgent(std::string_view tenant_id, std::string_view logical_id) override;
  absl::Status InsertAgent(const Agent& a) override;
  absl::Status UpdateAgent(const Agent& a) override;
  absl::StatusOr<std::vector<Agent>> ListAgents(std::string_view tenant_id) override;
  absl::StatusOr<std::vector<Agent>> ListAgentsByReplicaMode(ReplicaMode mode) override;
  absl::StatusOr<AgentAlias> FindAlias(std::string_view tenant_id,
                                       std::string_view logical_id) override;
  absl::Status InsertAlias(const AgentAlias& a) override;
  absl::StatusOr<std::vector<AgentAlias>> ListAliases(std::string_view tenant_id) override;
  absl::StatusOr<Registration> GetRegistration(std::string_view id) override;
  absl::StatusOr<Registration> FindRegistration(std::string_view agent_id,
                                                std::string_view instance_id) override;
  absl::Status InsertRegistration(const Registration& r) override;
  absl::Status UpdateRegistration(const Registration& r) override;
  absl::StatusOr<std::vector<Registration>> ListRegistrations(std::string_view agent_id) override;

  // Commands (commands.cc).
  absl::StatusOr<Command> GetCommand(std::string_view id) override;
  absl::StatusOr<int64_t> InsertCommand(const Command& c) override;
  absl::Status UpdateCommand(const Command& c) override;
  absl::StatusOr<std::vector<Command>> ListOpenCommands(std::string_view agent_id) override;
  absl::StatusOr<std::vector<Command>> ListCommands(std::string_view agent_id) override;
  absl::StatusOr<std::vector<Command>> ListDueCommands(Time now) override;
  absl::StatusOr<std::vector<Command>> ListCommandsSince(Time since) override;

  // Replicas and incidents (replicas.cc).
  absl::StatusOr<Replica> GetReplica(std::string_view id) override;
  absl::Status InsertReplica(const Replica& r) override;
  absl::Status UpdateReplica(const Replica& r) override;
  absl::StatusOr<std::vector<Replica>> ListReplicas(std::string_view agent_id) override;
  absl::StatusOr<std::vector<Replica>> ListLiveReplicas() override;
  absl::StatusOr<Incident> GetIncident(std::string_view id) override;
  absl::Status InsertIncident(const Incident& i) override;
  absl::Status UpdateIncident(const Incident& i) override;
  absl::StatusOr<std::vector<Incident>> ListIncidents(std::string_view agent_id) override;
  absl::StatusOr<std::vector<Incident>> ListOpenIncidents() override;
  absl::StatusOr<std::vector<Incident>> ListTenantIncidentsSince(std::string_view tenant_id,
                                                                 Time since) override;

  // Price observations (prices.cc).
  absl::StatusOr<int64_t> InsertPriceObservation(const PriceObservation& o) override;
  absl::StatusOr<std::vector<PriceObservation>> ListPriceObservations(std::string_view tenant_id,
                                                                      const Pool& pool, Time from,
                                                                      Time to) override;
  absl::StatusOr<std::vector<PriceObservation>> ListLatestPrices(
      std::string_view tenant_id, std::string_view region, std::string_view instance_type) override;
  absl::StatusOr<std::vector<PriceObservation>> ListTenantPriceObservations(
      std::string_view tenant_id) override;
  absl::StatusOr<std::vector<Pool>> ListPriceSeries(std::string_view tenant_id) override;
  absl::Status DeletePriceObservations(const std::vector<int64_t>& seqs) override;

  // An agent's history: events, run segments, switches, cleanup logs (history.cc).
  absl::Status InsertEvent(const AgentEvent& e) override;
  absl::StatusOr<std::vector<AgentEvent>> ListEvents(std::string_view agent_id) override;
  absl::Status InsertRunSegment(const RunSegment& s) override;
  absl::Status UpdateRunSegment(const RunSegment& s) override;
  absl::StatusOr<RunSegment> FindOpenRunSegment(std::string_view agent_id,
                                                std::string_view instance_id) override;
  absl::StatusOr<std::vector<RunSegment>> ListRunSegments(std::string_view agent_id) override;
  absl::StatusOr<std::vector<RunSegment>> ListTenantRunSegments(
      std::string_view tenant_id) override;
  absl::StatusOr<SwitchRecord> GetSwitch(std::string_view id) override;
  absl::Status InsertSwitch(const SwitchRecord& r) override;
  absl::Status UpdateSwitch(const SwitchRecord& r) override;
  absl::StatusOr<std::vector<SwitchRecord>> ListSwitches(std::string_view agent_id) override;
  absl::Status InsertCleanupLog(const CleanupLog& l) override;
  absl::StatusOr<std::vector<CleanupLog>> ListCleanupLogs(std::string_view agent_id) override;

  // The decision log (decisions.cc).
  absl::StatusOr<int64_t> InsertDecision(const decision::DecisionRecord& d) override;
  absl::StatusOr<std::vector<decision::DecisionRecord>> ListDecisions(std::string_view agent_id,
                                                                      int64_t before_seq,
                                                                      size_t limit) override;
  absl::StatusOr<std::vector<decision::DecisionRecord>> ListTenantDecisions(
      std::string_view tenant_id, int64_t before_seq, size_t limit) override;
  absl::StatusOr<std::vector<DecisionHead>> ListLatestDecisionKeys() override;
  absl::StatusOr<int64_t> DeleteDecisionsBefore(Time cutoff) override;

 private:
  absl::Status Usable() const {
    if (!active_) return absl::FailedPreconditionError("transaction is already finished");
    return absl::OkStatus();
  }
  absl::Status Writable() const {
    if (absl::Status s = Usable(); !s.ok()) return s;
    if (mode_ != TxMode::kWrite) {
      return absl::FailedPreconditionError("write in a read-only transaction");
    }
    return absl::OkStatus();
  }
  void Release();

  Database* state_;
  TxMode mode_;
  bool active_ = true;
  int64_t seq_at_begin_ = 0;
  int64_t price_seq_at_begin_ = 0;
  int64_t decision_seq_at_begin_ = 0;
  std::vector<UndoEntry> undo_;
};

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_TRANSACTION_H_
