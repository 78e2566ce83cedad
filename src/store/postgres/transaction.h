// PostgresStore's unit of work. One class, defined over several files by concern:
// transaction.cc has its lifecycle (the BEGIN sent with the first statement, commit,
// rollback) and the generic row access; tenants.cc, agents.cc, commands.cc,
// replicas.cc, prices.cc, history.cc and decisions.cc hold the record operations of
// their tables, each with its row binder.
#ifndef SPOTOPT_STORE_POSTGRES_TRANSACTION_H_
#define SPOTOPT_STORE_POSTGRES_TRANSACTION_H_

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
#include "spotopt/store/postgres_store.h"
#include "spotopt/store/store.h"
#include "store/codec.h"
#include "store/postgres/connection.h"
#include "store/postgres/statements.h"
#include "store/postgres/store_impl.h"

namespace spotopt::pg {

class PgTransaction final : public Transaction {
 public:
  PgTransaction(PostgresStore::Impl* store, std::unique_ptr<Connection> conn, TxMode mode)
      : store_(store), conn_(std::move(conn)), mode_(mode) {}
  ~PgTransaction() override;

  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;

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
  // Runs one statement that reads (after the BEGIN, in the same round trip, if it
  // is the transaction's first). A failure aborts the server's transaction: every
  // later statement and the commit fail the same way.
  absl::StatusOr<Result> Exec(Stmt stmt, const Params& params, std::string_view what);
  // Runs one statement that writes. `guarded`: one that may break a constraint runs
  // between SAVEPOINT and RELEASE, in the same round trip, so that a refusal leaves
  // the transaction usable, as in the other stores. The transaction's first write
  // also learns its id, for ResolveCommit.
  absl::StatusOr<Result> Write(Stmt stmt, const Params& params, std::string_view what,
                               bool guarded);
  absl::Status Exchange(std::vector<Call> calls, std::string_view what,
                        std::vector<Result>* results, size_t* failed);
  absl::Status CheckUsable() const;
  absl::Status CheckWritable() const;
  // Ends the server's transaction without waiting and returns the connection.
  void Rollback();
  void Finish();

  // Registration liveness (agents.cc).
  absl::Status PutLiveness(const Registration& r);
  absl::StatusOr<Registration> WithHeldBeat(absl::StatusOr<Registration> r);

  // Decodes row `row` of a doc query (command and decision rows carry their seq in
  // column 1, registration rows their last_seen_at), or a price observation's
  // columns.
  template <class T>
  static absl::StatusOr<T> ReadRow(const Result& r, int row) {
    if constexpr (std::is_same_v<T, PriceObservation>) {
      return ReadPrice(r, row);
    } else {
      absl::StatusOr<T> record = codec::Decode<T>(r.Text(row, 0));
      if (record.ok()) {
        if constexpr (std::is_same_v<T, Command> || std::is_same_v<T, decision::DecisionRecord>) {
          record->seq = r.Int(row, 1);
        }
        if constexpr (std::is_same_v<T, Registration>) {
          record->last_seen_at = FromMicros(r.Int(row, 1));
        }
      }
      return record;
    }
  }
  // Reads a row of the price columns (prices.cc).
  static absl::StatusOr<PriceObservation> ReadPrice(const Result& r, int row);

  template <class T, class... Keys>
  absl::StatusOr<T> Get(Stmt stmt, std::string_view what, const Keys&... keys) {
    Params p(keys...);
    absl::StatusOr<Result> r = Exec(stmt, p, what);
    if (!r.ok()) return r.status();
    if (r->rows() == 0) {
      std::string key;
      ((key += (key.empty() ? "" : "/"), key += keys), ...);
      return absl::NotFoundError(fmt::format("{} {} not found", what, key));
    }
    return ReadRow<T>(*r, 0);
  }

  template <class T, class... Keys>
  absl::StatusOr<std::vector<T>> List(Stmt stmt, std::string_view what, const Keys&... keys) {
    Params p(keys...);
    absl::StatusOr<Result> r = Exec(stmt, p, what);
    if (!r.ok()) return r.status();
    std::vector<T> out;
    out.reserve(static_cast<size_t>(r->rows()));
    for (int row = 0; row < r->rows(); ++row) {
      absl::StatusOr<T> record = ReadRow<T>(*r, row);
      if (!record.ok()) return record.status();
      out.push_back(*std::move(record));
    }
    return out;
  }

  // Inserts into a table whose only unique key is the record's own (the statement
  // says ON CONFLICT DO NOTHING): no row is AlreadyExists.
  template <class T>
  absl::Status InsertKeyed(Stmt stmt, std::string_view what, const T& record,
                           std::string_view key) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    const std::string doc = codec::EncodeDoc(record);
    Params p;
    BindRow(p, record, doc);
    absl::StatusOr<Result> r = Write(stmt, p, what, /*guarded=*/false);
    if (!r.ok()) return r.status();
    if (r->Changed() == 0) {
      return absl::AlreadyExistsError(fmt::format("{}: {} already exists", what, key));
    }
    return absl::OkStatus();
  }

  // Inserts into a table with storage constraints; `extra` parameters follow the
  // row's. Which index trips first for a repeated record is not defined, so a key
  // that exists is AlreadyExists all the same.
  template <class T, class... Extra>
  absl::Status InsertConstrained(Stmt stmt, std::string_view what, const T& record, Stmt get,
                                 std::string_view key, const Extra&... extra) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    const std::string doc = codec::EncodeDoc(record);
    Params p;
    BindRow(p, record, doc);
    (p.Add(extra), ...);
    absl::Status s = Write(stmt, p, what, /*guarded=*/true).status();
    if (s.code() != absl::StatusCode::kFailedPrecondition) return s;
    if (Get<T>(get, what, key).ok()) {
      return absl::AlreadyExistsError(fmt::format("{}: {} already exists", what, key));
    }
    return s;
  }

  // Updates by key: `guarded` for tables whose constraints an update can break.
  // Statements that match the identity in their WHERE clause change no row for a
  // record that is missing or whose identity differs; `get` tells the two apart.
  template <class T>
  absl::Status Update(Stmt stmt, std::string_view what, const T& record, bool guarded,
                      Stmt get = kStmtCount, std::string_view key = {}) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    const std::string doc = codec::EncodeDoc(record);
    Params p;
    BindRow(p, record, doc);
    absl::StatusOr<Result> r = Write(stmt, p, what, guarded);
    if (!r.ok()) return r.status();
    if (r->Changed() > 0) return absl::OkStatus();
    if (get != kStmtCount) {
      Params k(key);
      absl::StatusOr<Result> found = Exec(get, k, what);
      if (!found.ok()) return found.status();
      if (found->rows() > 0) {
        return absl::FailedPreconditionError(
            fmt::format("{}: the identity of {} cannot change", what, key));
      }
    }
    return absl::NotFoundError(fmt::format("{}: no such record", what));
  }

  // Parameter order matches the INSERT and UPDATE statements of each table; each is
  // defined next to its table's operations.
  static void BindRow(Params& p, const Tenant& t, const std::string& doc);
  static void BindRow(Params& p, const ApiToken& t, const std::string& doc);
  static void BindRow(Params& p, const Agent& a, const std::string& doc);
  static void BindRow(Params& p, const AgentAlias& a, const std::string& doc);
  static void BindRow(Params& p, const Registration& r, const std::string& doc);
  static void BindRow(Params& p, const Command& c, const std::string& doc);
  static void BindRow(Params& p, const Replica& r, const std::string& doc);
  static void BindRow(Params& p, const Incident& i, const std::string& doc);
  static void BindRow(Params& p, const AgentEvent& e, const std::string& doc);
  static void BindRow(Params& p, const RunSegment& s, const std::string& doc);
  static void BindRow(Params& p, const SwitchRecord& r, const std::string& doc);
  static void BindRow(Params& p, const CleanupLog& l, const std::string& doc);

  PostgresStore::Impl* store_;
  std::unique_ptr<Connection> conn_;  // null once finished
  const TxMode mode_;
  bool begun_ = false;   // BEGIN went out with the first statement
  std::string xid_;      // the transaction's id, once it wrote
  absl::Status failed_;  // why the server rolled the transaction back, if it did
};

// Borrows a connection for a new transaction (PostgresStore::Begin).
absl::StatusOr<std::unique_ptr<PgTransaction>> StartTransaction(PostgresStore::Impl& impl,
                                                                TxMode mode);

}  // namespace spotopt::pg

#endif  // SPOTOPT_STORE_POSTGRES_TRANSACTION_H_
