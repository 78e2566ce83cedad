// The storage interface: a Store hands out units of work (transactions); every
// service use case runs in exactly one. Implementations: MemoryStore, SqliteStore,
// PostgresStore.
//
// Contract every implementation keeps (tests/store/conformance_test.cc checks it):
// - A transaction sees its own writes; nothing is visible to others before Commit.
//   Destroying an uncommitted transaction rolls it back.
// - Write transactions are serializable with respect to each other. A store that can
//   be shared with other processes (SqliteStore) waits up to its busy timeout in
//   Begin, then returns Unavailable; MemoryStore's short transactions just wait.
//   PostgresStore runs them concurrently and fails one of two that conflict with a
//   status IsRetryable() recognizes: the unit of work did not happen and may run again.
// - Get* returns NotFound for a missing record; Insert* returns AlreadyExists for a
//   duplicate key; Update* returns NotFound for a missing record.
// - Storage constraints, refused with FailedPrecondition whatever the caller's code
//   does: at most one LEASED command per agent; at most one placement command
//   PENDING or LEASED per agent; at most one live replica per agent; one registration
//   per (agent, instance); one agent per (tenant, logical id).
// - Update* rewrites a record's state, never its identity: an agent's tenant and
//   creation time; a registration's tenant, agent, instance and creation time; a
//   command's tenant, agent, type and creation time; a replica's tenant, agent and
//   creation time. Changing those is FailedPrecondition.
// - List* results are ordered as documented per method, so callers and tests are
//   deterministic across stores.
// - Insert* that assign a `seq` number each table's records in increasing order and
//   never reuse a number; numbers of a rolled-back or refused insert may be skipped
//   (PostgresStore draws them from sequences, which do not roll back).
#ifndef SPOTOPT_STORE_STORE_H_
#define SPOTOPT_STORE_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "spotopt/decision/record.h"
#include "spotopt/domain/agent.h"
#include "spotopt/domain/command.h"
#include "spotopt/domain/incident.h"
#include "spotopt/domain/replica.h"
#include "spotopt/domain/report.h"
#include "spotopt/domain/run_segment.h"
#include "spotopt/domain/tenant.h"

namespace spotopt {

enum class TxMode { kRead, kWrite };

class SPOTOPT_EXPORT Transaction {
 public:
  virtual ~Transaction() = default;

  // Makes every write durable and visible. The transaction is finished afterwards,
  // whether or not Commit succeeded.
  virtual absl::Status Commit() = 0;

  // Tenants, ordered by id.
  virtual absl::StatusOr<Tenant> GetTenant(std::string_view id) = 0;
  virtual absl::Status InsertTenant(const Tenant& t) = 0;
  virtual absl::Status UpdateTenant(const Tenant& t) = 0;
  virtual absl::StatusOr<std::vector<Tenant>> ListTenants() = 0;

  // API tokens, keyed by prefix; listed by created_at then prefix.
  virtual absl::StatusOr<ApiToken> GetToken(std::string_view prefix) = 0;
  virtual absl::Status InsertToken(const ApiToken& t) = 0;
  virtual absl::Status UpdateToken(const ApiToken& t) = 0;
  virtual absl::StatusOr<std::vector<ApiToken>> ListTokens(std::string_view tenant_id) = 0;

  // Logical agents; lists ordered by id.
  virtual absl::StatusOr<Agent> GetAgent(std::string_view id) = 0;
  virtual absl::StatusOr<Agent> FindAgent(std::string_view tenant_id,
                                          std::string_view logical_id) = 0;
  virtual absl::Status InsertAgent(const Agent& a) = 0;
  virtual absl::Status UpdateAgent(const Agent& a) = 0;
  virtual absl::StatusOr<std::vector<Agent>> ListAgents(std::string_view tenant_id) = 0;
  // Active agents of every tenant whose config has this replica mode (tick's upkeep).
  virtual absl::StatusOr<std::vector<Agent>> ListAgentsByReplicaMode(ReplicaMode mode) = 0;

  virtual absl::StatusOr<AgentAlias> FindAlias(std::string_view tenant_id,
                                               std::string_view logical_id) = 0;
  virtual absl::Status InsertAlias(const AgentAlias& a) = 0;
  // Ordered by logical_id.
  virtual absl::StatusOr<std::vector<AgentAlias>> ListAliases(std::string_view tenant_id) = 0;

  // Registrations; lists ordered by created_at then id.
  virtual absl::StatusOr<Registration> GetRegistration(std::string_view id) = 0;
  virtual absl::StatusOr<Registration> FindRegistration(std::string_view agent_id,
                                                        std::string_view instance_id) = 0;
  virtual absl::Status InsertRegistration(const Registration& r) = 0;
  virtual absl::Status UpdateRegistration(const Registration& r) = 0;
  virtual absl::StatusOr<std::vector<Registration>> ListRegistrations(
      std::string_view agent_id) = 0;

  // Commands. Insert assigns `seq` (returned). Lists are in delivery order:
  // priority desc, created_at asc, seq asc.
  virtual absl::StatusOr<Command> GetCommand(std::string_view id) = 0;
  virtual absl::StatusOr<int64_t> InsertCommand(const Command& c) = 0;
  virtual absl::Status UpdateCommand(const Command& c) = 0;
  // The agent's commands that are PENDING or LEASED.
  virtual absl::StatusOr<std::vector<Command>> ListOpenCommands(std::string_view agent_id) = 0;
  // Every command of the agent, open or closed.
  virtual absl::StatusOr<std::vector<Command>> ListCommands(std::string_view agent_id) = 0;
  // Open commands of any agent whose TTL (PENDING) or lease (LEASED) ends at or
  // before `now`.
  virtual absl::StatusOr<std::vector<Command>> ListDueCommands(Time now) = 0;
  // Commands of every agent created at or after `since`, by seq (the fleet run's
  // view of pending switches and recent ones in one read).
  virtual absl::StatusOr<std::vector<Command>> ListCommandsSince(Time since) = 0;

  // Replicas; lists ordered by created_at then id.
  virtual absl::StatusOr<Replica> GetReplica(std::string_view id) = 0;
  virtual absl::Status InsertReplica(const Replica& r) = 0;
  virtual absl::Status UpdateReplica(const Replica& r) = 0;
  virtual absl::StatusOr<std::vector<Replica>> ListReplicas(std::string_view agent_id) = 0;
  // Live replicas of every agent (tick's timeouts).
  virtual absl::StatusOr<std::vector<Replica>> ListLiveReplicas() = 0;

  // Incidents; lists ordered by first_seen then id.
  virtual absl::StatusOr<Incident> GetIncident(std::string_view id) = 0;
  virtual absl::Status InsertIncident(const Incident& i) = 0;
  virtual absl::Status UpdateIncident(const Incident& i) = 0;
  virtual absl::StatusOr<std::vector<Incident>> ListIncidents(std::string_view agent_id) = 0;
  // Incidents of every agent that are not closed yet.
  virtual absl::StatusOr<std::vector<Incident>> ListOpenIncidents() = 0;
  // The tenant's incidents first seen at or after `since` (the decision layer's
  // evidence of risk per pool).
  virtual absl::StatusOr<std::vector<Incident>> ListTenantIncidentsSince(std::string_view tenant_id,
                                                                         Time since) = 0;

  // Agent events, append-only; listed by `at` then id.
  virtual absl::Status InsertEvent(const AgentEvent& e) = 0;
  virtual absl::StatusOr<std::vector<AgentEvent>> ListEvents(std::string_view agent_id) = 0;

  // Price observations, append-only. Insert assigns `seq` (returned); the price
  // pipeline reads them per pool, so they are indexed by (tenant, region, instance
  // type, AZ, observed_at).
  virtual absl::StatusOr<int64_t> InsertPriceObservation(const PriceObservation& o) = 0;
  // The tenant's observations of one pool (an empty AZ: the on-demand prices of the
  // region and type) with from <= observed_at < to, ordered by observed_at then seq.
  virtual absl::StatusOr<std::vector<PriceObservation>> ListPriceObservations(
      std::string_view tenant_id, const Pool& pool, Time from, Time to) = 0;
  // The newest observation (greatest observed_at, then seq) of each (AZ, kind) the
  // tenant has for (region, instance type), ordered by AZ then kind.
  virtual absl::StatusOr<std::vector<PriceObservation>> ListLatestPrices(
      std::string_view tenant_id, std::string_view region, std::string_view instance_type) = 0;
  // Every observation of the tenant, by seq.
  virtual absl::StatusOr<std::vector<PriceObservation>> ListTenantPriceObservations(
      std::string_view tenant_id) = 0;
  // Every price series the tenant has observations for: one Pool per distinct
  // (region, AZ, instance type), an empty AZ standing for the on-demand series;
  // ordered by region, instance type, AZ.
  virtual absl::StatusOr<std::vector<Pool>> ListPriceSeries(std::string_view tenant_id) = 0;
  // Deletes the observations with these seqs (retention); unknown seqs are ignored.
  virtual absl::Status DeletePriceObservations(const std::vector<int64_t>& seqs) = 0;

  // Run segments, the savings ledger's facts (see spotopt/domain/run_segment.h).
  // Update may set ended_at and nothing else; any other change is
  // FailedPrecondition. At most one open segment (no ended_at) per (agent, instance,
  // role) is a storage constraint. Listed by started_at then id.
  virtual absl::Status InsertRunSegment(const RunSegment& s) = 0;
  virtual absl::Status UpdateRunSegment(const RunSegment& s) = 0;
  // The agent's open segment for this instance, of either role (primary first);
  // NotFound when there is none.
  virtual absl::StatusOr<RunSegment> FindOpenRunSegment(std::string_view agent_id,
                                                        std::string_view instance_id) = 0;
  virtual absl::StatusOr<std::vector<RunSegment>> ListRunSegments(std::string_view agent_id) = 0;
  virtual absl::StatusOr<std::vector<RunSegment>> ListTenantRunSegments(
      std::string_view tenant_id) = 0;

  // Switch records; listed by created_at then id.
  virtual absl::StatusOr<SwitchRecord> GetSwitch(std::string_view id) = 0;
  virtual absl::Status InsertSwitch(const SwitchRecord& s) = 0;
  virtual absl::Status UpdateSwitch(const SwitchRecord& s) = 0;
  virtual absl::StatusOr<std::vector<SwitchRecord>> ListSwitches(std::string_view agent_id) = 0;

  // The decision log (spotopt/decision/record.h), append-only. Insert assigns `seq`
  // (returned) and makes the record its agent's latest, whose DecisionKey
  // ListLatestDecisionKeys returns. Lists are newest first: records with
  // seq < before_seq (0: from the newest), at most `limit`.
  virtual absl::StatusOr<int64_t> InsertDecision(const decision::DecisionRecord& d) = 0;
  virtual absl::StatusOr<std::vector<decision::DecisionRecord>> ListDecisions(
      std::string_view agent_id, int64_t before_seq, size_t limit) = 0;
  virtual absl::StatusOr<std::vector<decision::DecisionRecord>> ListTenantDecisions(
      std::string_view tenant_id, int64_t before_seq, size_t limit) = 0;
  struct DecisionHead {
    std::string agent_id;
    int64_t seq = 0;
    std::string key;  // decision::DecisionKey of the agent's latest record
  };
  // Every agent's latest record's key, by agent id.
  virtual absl::StatusOr<std::vector<DecisionHead>> ListLatestDecisionKeys() = 0;
  // Retention: deletes the records decided before `cutoff`, except each agent's
  // latest; returns how many went.
  virtual absl::StatusOr<int64_t> DeleteDecisionsBefore(Time cutoff) = 0;

  // Cleanup logs, append-only; listed by received_at then id.
  virtual absl::Status InsertCleanupLog(const CleanupLog& l) = 0;
  virtual absl::StatusOr<std::vector<CleanupLog>> ListCleanupLogs(std::string_view agent_id) = 0;
};

class SPOTOPT_EXPORT Store {
 public:
  virtual ~Store() = default;
  // Starts a unit of work. Read transactions may run concurrently with each other
  // and with one writer; write transactions run one at a time.
  virtual absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) = 0;

  // A heartbeat: registration `id` was seen at `at`. Liveness is soft state that
  // every beat renews, so a store may hold beats in memory and write them in
  // batches, outside any transaction (SqliteStore: SqliteOptions::beat_hold). This
  // store's own transactions read a held beat as if it were written; another
  // process sees it once written. last_seen_at never moves backwards, and an
  // unknown id changes nothing. A held beat dies with its process: the agent's
  // next beat, due within the liveness timeout, renews it.
  virtual absl::Status TouchRegistration(std::string_view id, Time at) = 0;
  // Writes every held beat now. Hosts call it through Controller::Tick and before
  // shutting down; a failed batch stays held for the next call.
  virtual absl::Status FlushHeld() = 0;
  // Stores a pricing report's observations, in order. A store may hold them in
  // memory and write them in batches (SqliteStore: SqliteOptions::price_hold); every
  // transaction of this store that begins afterwards reads them as written, and
  // FlushHeld writes them too. Held observations die with their process: up to one
  // hold of reports, which agents send again every 5 minutes. This one writes them
  // at once, in one write transaction.
  virtual absl::Status AddPriceObservations(const std::vector<PriceObservation>& observations);
};

// A failure after which the unit of work can simply run again: the store guarantees
// that none of it was committed (a serialization conflict with another transaction,
// a connection lost before commit). The Controller runs such a use case again, for a
// while, before it reports the failure.
SPOTOPT_EXPORT absl::Status Retryable(absl::Status status);
SPOTOPT_EXPORT bool IsRetryable(const absl::Status& status);

// Every record of the store as canonical JSON text, in one read transaction: two
// stores holding the same state dump the same text. For tests and operators; reads
// the whole store.
SPOTOPT_EXPORT absl::StatusOr<std::string> DumpStore(Store& store);

}  // namespace spotopt

#endif  // SPOTOPT_STORE_STORE_H_
