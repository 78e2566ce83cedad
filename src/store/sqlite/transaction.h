// SqliteStore's unit of work. One class, defined over several files by concern:
// transaction.cc has its lifecycle (begin, commit, rollback); tenants.cc, agents.cc,
// commands.cc, replicas.cc, prices.cc, history.cc and decisions.cc hold the record
// operations of their tables, each with its row binder. The generic row access they share (Get,
// List, Write, Insert, UpdateIdentified) is here.
#ifndef SPOTOPT_STORE_SQLITE_TRANSACTION_H_
#define SPOTOPT_STORE_SQLITE_TRANSACTION_H_

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spotopt/store/sqlite_store.h"
#include "spotopt/store/store.h"
#include "store/codec.h"
#include "store/record_cache.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/statements.h"
#include "store/sqlite/store_impl.h"

namespace spotopt::sqlite {

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteStore::Impl* store, std::unique_ptr<Connection> conn, TxMode mode)
      : store_(store), conn_(std::move(conn)), mode_(mode) {}
  ~SqliteTransaction() override;

  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  // Starts the SQLite transaction and reads its version; on failure the connection
  // is back in the pool and the caller drops this object.
  absl::Status Start();
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

  // Agents, aliases, registrations and their liveness (agents.cc).
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
  // Writes a held beat (SqliteStore::FlushHeld's batch).
  absl::Status TouchRegistration(std::string_view id, Time at);
  // Writes every held price observation in this write transaction; committing
  // counts them written, rolling back holds them again.
  absl::Status WriteHeldPrices();

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
  static absl::Status Finished();

  // Whether a read of `id` may come from the cache: not after this transaction
  // wrote it (the cache holds the committed record).
  bool Cacheable(const std::vector<std::string>& written, std::string_view id) const {
    return cached_ && std::find(written.begin(), written.end(), id) == written.end();
  }
  // Notes a write of a cached kind for Commit; passes `s` through.
  static absl::Status Changed(std::vector<std::string>& written, std::string_view id,
                              absl::Status s) {
    if (s.ok()) written.emplace_back(id);
    return s;
  }

  absl::Status Exec(Stmt stmt, std::string_view what);
  absl::Status CheckWritable() const;
  void Rollback();
  // Returns the connection to the pool and lets the next writer in.
  void Finish();

  // Registration liveness (agents.cc).
  absl::Status PutLiveness(const Registration& r);
  absl::Status WriteLiveness(Stmt stmt, std::string_view id, Time at);
  absl::StatusOr<Registration> WithHeldBeat(absl::StatusOr<Registration> r);

  // Decodes the row's doc (command and decision rows carry their seq in column 1,
  // registration rows their last_seen_at), or a price observation's kPriceColumns.
  template <class T>
  static absl::StatusOr<T> ReadRow(Query& q) {
    if constexpr (std::is_same_v<T, PriceObservation>) {
      return ReadPrice(q);
    } else {
      absl::StatusOr<T> record = codec::Decode<T>(q.Text(0));
      if (record.ok()) {
        if constexpr (std::is_same_v<T, Command> || std::is_same_v<T, decision::DecisionRecord>) {
          record->seq = q.Int(1);
        }
        if constexpr (std::is_same_v<T, Registration>) record->last_seen_at = FromMicros(q.Int(1));
      }
      return record;
    }
  }

  // Reads a row of kPriceColumns (prices.cc).
  static absl::StatusOr<PriceObservation> ReadPrice(Query& q);

  template <class... Keys>
  static void BindAll(Query& q, const Keys&... keys) {
    int i = 0;
    (q.Bind(++i, keys), ...);
  }

  template <class T, class... Keys>
  absl::StatusOr<T> Get(Stmt stmt, std::string_view what, const Keys&... keys) {
    if (conn_ == nullptr) return Finished();
    Query q(*conn_, stmt);
    BindAll(q, keys...);
    const int rc = q.Step();
    if (rc == SQLITE_ROW) return ReadRow<T>(q);
    if (rc == SQLITE_DONE) {
      std::string key;
      ((key += (key.empty() ? "" : "/"), key += keys), ...);
      return absl::NotFoundError(fmt::format("{} {} not found", what, key));
    }
    return q.Error(rc, fmt::format("get {}", what));
  }

  template <class T, class... Keys>
  absl::StatusOr<std::vector<T>> List(Stmt stmt, std::string_view what, const Keys&... keys) {
    if (conn_ == nullptr) return Finished();
    Query q(*conn_, stmt);
    BindAll(q, keys...);
    std::vector<T> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      absl::StatusOr<T> record = ReadRow<T>(q);
      if (!record.ok()) return record.status();
      out.push_back(*std::move(record));
    }
    if (rc != SQLITE_DONE) return q.Error(rc, what);
    return out;
  }

  template <class T>
  absl::Status Write(Stmt stmt, std::string_view what, const T& record) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    const std::string doc = codec::EncodeDoc(record);
    Query q(*conn_, stmt);
    BindRow(q, record, doc);
    const int rc = q.Step();
    if (rc != SQLITE_DONE) return q.Error(rc, what);
    if (sqlite3_changes(conn_->db) == 0) {
      return absl::NotFoundError(fmt::format("{}: no such record", what));
    }
    return absl::OkStatus();
  }

  // Updates that rewrite only the mutable columns (so the identity's index entries are
  // left alone) and match the identity in their WHERE clause: no row changed means
  // either no such record or an attempt to change its identity.
  template <class T>
  absl::Status UpdateIdentified(Stmt stmt, std::string_view what, const T& record, Stmt get,
                                std::string_view key) {
    absl::Status s = Write(stmt, what, record);
    if (!absl::IsNotFound(s)) return s;
    Query q(*conn_, get);
    q.Bind(1, key);
    if (q.Step() == SQLITE_ROW) {
      return absl::FailedPreconditionError(
          fmt::format("{}: the identity of {} cannot change", what, key));
    }
    return s;
  }

  // SQLite checks unique indexes in no documented order, so a repeated record may
  // first trip a constraint index; a key that exists is AlreadyExists all the same.
  template <class T>
  absl::Status Insert(Stmt stmt, std::string_view what, const T& record, Stmt get,
                      std::string_view key) {
    absl::Status s = Write(stmt, what, record);
    if (s.code() != absl::StatusCode::kFailedPrecondition || conn_ == nullptr) return s;
    Query q(*conn_, get);
    q.Bind(1, key);
    if (q.Step() == SQLITE_ROW) {
      return absl::AlreadyExistsError(fmt::format("{}: {} already exists", what, key));
    }
    return s;
  }

  // Parameter order matches the INSERT and UPDATE statements of each table; each is
  // defined next to its table's operations.
  static void BindRow(Query& q, const Tenant& t, const std::string& doc);
  static void BindRow(Query& q, const ApiToken& t, const std::string& doc);
  static void BindRow(Query& q, const Agent& a, const std::string& doc);
  static void BindRow(Query& q, const AgentAlias& a, const std::string& doc);
  static void BindRow(Query& q, const Registration& r, const std::string& doc);
  static void BindRow(Query& q, const Command& c, const std::string& doc);
  static void BindRow(Query& q, const Replica& r, const std::string& doc);
  static void BindRow(Query& q, const Incident& i, const std::string& doc);
  static void BindRow(Query& q, const AgentEvent& e, const std::string& doc);
  static void BindRow(Query& q, const RunSegment& s, const std::string& doc);
  static void BindRow(Query& q, const SwitchRecord& r, const std::string& doc);
  static void BindRow(Query& q, const CleanupLog& l, const std::string& doc);
  static void BindRow(Query& q, const decision::DecisionRecord& d, const std::string& doc);

  // Makes the observations held before this transaction began readable in it. A
  // write transaction writes them itself. A read transaction has them written,
  // then reads on from a newer snapshot: observations are append-only, and a
  // reader changes nothing that an older snapshot would have to be kept for.
  absl::Status ShowHeldPrices();

  SqliteStore::Impl* store_;
  std::unique_ptr<Connection> conn_;  // null once finished
  const TxMode mode_;
  HeldPrices::Mark prices_mark_;                // as this transaction began
  std::vector<PriceObservation> taken_prices_;  // held ones this transaction writes
  int64_t version_ = 0;                         // store_version as of this transaction's snapshot
  bool cached_ = false;                         // the record cache is at version_
  CacheChanges changes_;                        // cached kinds this write transaction changed
};

// Borrows a connection (and, to write, this process's write lock) and begins a
// transaction on it: SqliteStore::Begin, and the background thread's batches.
absl::StatusOr<std::unique_ptr<SqliteTransaction>> StartTransaction(SqliteStore::Impl& impl,
                                                                    TxMode mode);

}  // namespace spotopt::sqlite

#endif  // SPOTOPT_STORE_SQLITE_TRANSACTION_H_
