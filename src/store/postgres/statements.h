// The SQL of PostgresStore's prepared statements. Every connection prepares each one
// once, when it connects (src/store/postgres/connection.cc); a transaction runs them
// by their Stmt number.
#ifndef SPOTOPT_STORE_POSTGRES_STATEMENTS_H_
#define SPOTOPT_STORE_POSTGRES_STATEMENTS_H_

#include <string>

namespace spotopt::pg {

// Statements every connection prepares once, indexed by Stmt.
enum Stmt : int {
  kBeginRead,
  kBeginWrite,
  kCommit,
  kRollback,
  kSavepoint,
  kReleaseSavepoint,
  kRollbackToSavepoint,
  kCurrentXid,
  kXactStatus,
  kGetTenant,
  kInsertTenant,
  kUpdateTenant,
  kListTenants,
  kGetToken,
  kInsertToken,
  kUpdateToken,
  kListTokens,
  kGetAgent,
  kFindAgent,
  kInsertAgent,
  kUpdateAgent,
  kListAgents,
  kListAgentsByReplicaMode,
  kFindAlias,
  kInsertAlias,
  kListAliases,
  kGetRegistration,
  kFindRegistration,
  kInsertRegistration,
  kUpdateRegistration,
  kListRegistrations,
  kPutLiveness,
  kTouchRegistrations,
  kGetCommand,
  kNextCommandSeq,
  kInsertCommand,
  kUpdateCommand,
  kListOpenCommands,
  kListCommands,
  kListDueCommands,
  kListCommandsSince,
  kGetReplica,
  kInsertReplica,
  kUpdateReplica,
  kListReplicas,
  kListLiveReplicas,
  kGetIncident,
  kInsertIncident,
  kUpdateIncident,
  kListIncidents,
  kListOpenIncidents,
  kListTenantIncidentsSince,
  kInsertEvent,
  kListEvents,
  kInsertPrice,
  kListPrices,
  kListLatestPrices,
  kListTenantPrices,
  kListPriceSeries,
  kDeletePrices,
  kGetSwitch,
  kInsertSwitch,
  kUpdateSwitch,
  kListSwitches,
  kInsertCleanupLog,
  kListCleanupLogs,
  kGetRunSegment,
  kInsertRunSegment,
  kUpdateRunSegment,
  kFindOpenRunSegment,
  kListRunSegments,
  kListTenantRunSegments,
  kGetDecision,
  kNextDecisionSeq,
  kInsertDecision,
  kListDecisions,
  kListTenantDecisions,
  kListDecisionHeads,
  kDeleteDecisionsBefore,
  kStmtCount,
};

// The text of `stmt`, ready to prepare.
std::string StatementSql(Stmt stmt);

}  // namespace spotopt::pg

#endif  // SPOTOPT_STORE_POSTGRES_STATEMENTS_H_
