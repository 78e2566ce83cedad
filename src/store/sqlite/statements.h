// The SQL of SqliteStore's prepared statements. Every connection prepares each one
// once (src/store/sqlite/pool.cc); a transaction runs them by their Stmt number.
#ifndef SPOTOPT_STORE_SQLITE_STATEMENTS_H_
#define SPOTOPT_STORE_SQLITE_STATEMENTS_H_

#include <string>
#include <string_view>

namespace spotopt::sqlite {

// Statements every connection prepares once, indexed by Stmt.
enum Stmt : int {
  kBegin,
  kBeginImmediate,
  kCommit,
  kRollback,
  kReadVersion,
  kBumpVersion,
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
  kTouchRegistration,
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
  kNextLatestPricePair,
  kLatestPriceOfPair,
  kListTenantPrices,
  kFirstPriceSeries,
  kNextPriceSeries,
  kDeletePrice,
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
  kPutDecisionHead,
  kListDecisions,
  kListTenantDecisions,
  kListDecisionHeads,
  kDeleteDecisionsBefore,
  kStmtCount,
};

// The text of `stmt`, ready to prepare.
std::string StatementSql(Stmt stmt);

}  // namespace spotopt::sqlite

#endif  // SPOTOPT_STORE_SQLITE_STATEMENTS_H_
