// SqliteTransaction: the decision log and each agent's latest entry.
#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {
namespace {

// 0 asks for the newest entries.
int64_t Before(int64_t before_seq) {
  return before_seq > 0 ? before_seq : std::numeric_limits<int64_t>::max();
}

}  // namespace

absl::StatusOr<int64_t> SqliteTransaction::InsertDecision(const decision::DecisionRecord& d) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  // The seq goes into the document too, as a command's does.
  decision::DecisionRecord stored = d;
  {
    Query q(*conn_, kNextDecisionSeq);
    const int rc = q.Step();
    if (rc != SQLITE_ROW) return q.Error(rc, "insert decision");
    stored.seq = q.Int(0);
  }
  if (absl::Status s = Insert(kInsertDecision, "insert decision", stored, kGetDecision, d.id);
      !s.ok()) {
    return s;
  }
  const int64_t seq = stored.seq;
  const std::string key = decision::DecisionKey(d.decision);  // bound without a copy
  Query q(*conn_, kPutDecisionHead);
  q.Bind(1, d.agent_id);
  q.Bind(2, seq);
  q.Bind(3, key);
  const int rc = q.Step();
  if (rc != SQLITE_DONE) return q.Error(rc, "insert decision head");
  return seq;
}

absl::StatusOr<std::vector<decision::DecisionRecord>> SqliteTransaction::ListDecisions(
    std::string_view agent_id, int64_t before_seq, size_t limit) {
  return List<decision::DecisionRecord>(kListDecisions, "list decisions", agent_id,
                                        Before(before_seq), static_cast<int64_t>(limit));
}

absl::StatusOr<std::vector<decision::DecisionRecord>> SqliteTransaction::ListTenantDecisions(
    std::string_view tenant_id, int64_t before_seq, size_t limit) {
  return List<decision::DecisionRecord>(kListTenantDecisions, "list decisions", tenant_id,
                                        Before(before_seq), static_cast<int64_t>(limit));
}

absl::StatusOr<std::vector<Transaction::DecisionHead>> SqliteTransaction::ListLatestDecisionKeys() {
  if (conn_ == nullptr) return Finished();
  Query q(*conn_, kListDecisionHeads);
  std::vector<DecisionHead> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back(DecisionHead{std::string(q.Text(0)), q.Int(1), std::string(q.Text(2))});
  }
  if (rc != SQLITE_DONE) return q.Error(rc, "list decision heads");
  return out;
}

absl::StatusOr<int64_t> SqliteTransaction::DeleteDecisionsBefore(Time cutoff) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  Query q(*conn_, kDeleteDecisionsBefore);
  q.Bind(1, cutoff);
  const int rc = q.Step();
  if (rc != SQLITE_DONE) return q.Error(rc, "delete old decisions");
  return sqlite3_changes(conn_->db);
}

void SqliteTransaction::BindRow(Query& q, const decision::DecisionRecord& d,
                                const std::string& doc) {
  q.Bind(1, d.id);
  q.Bind(2, d.tenant_id);
  q.Bind(3, d.agent_id);
  q.Bind(4, d.decided_at);
  q.Bind(5, doc);
  q.Bind(6, d.seq);
}

}  // namespace spotopt::sqlite
