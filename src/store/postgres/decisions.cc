// PgTransaction: the decision log and each agent's latest entry.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "store/postgres/transaction.h"

namespace spotopt::pg {
namespace {

// 0 asks for the newest entries.
int64_t Before(int64_t before_seq) {
  return before_seq > 0 ? before_seq : std::numeric_limits<int64_t>::max();
}

int64_t Limit(size_t limit) {
  return static_cast<int64_t>(
      std::min<size_t>(limit, static_cast<size_t>(std::numeric_limits<int64_t>::max())));
}

}  // namespace

absl::StatusOr<int64_t> PgTransaction::InsertDecision(const decision::DecisionRecord& d) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  // The seq goes into the document too, as a command's does.
  absl::StatusOr<Result> next = Exec(kNextDecisionSeq, Params(), "insert decision");
  if (!next.ok()) return next.status();
  decision::DecisionRecord stored = d;
  stored.seq = next->Int(0, 0);
  const std::string doc = codec::Encode(stored);
  const std::string key = decision::DecisionKey(d.decision);
  Params p(std::string_view(d.id), std::string_view(d.tenant_id), std::string_view(d.agent_id),
           d.decided_at, std::string_view(doc), stored.seq, std::string_view(key));
  absl::StatusOr<Result> r = Write(kInsertDecision, p, "insert decision", false);
  if (!r.ok()) return r.status();
  if (r->Changed() == 0) {
    return absl::AlreadyExistsError(fmt::format("insert decision: {} already exists", d.id));
  }
  return stored.seq;
}

absl::StatusOr<std::vector<decision::DecisionRecord>> PgTransaction::ListDecisions(
    std::string_view agent_id, int64_t before_seq, size_t limit) {
  return List<decision::DecisionRecord>(kListDecisions, "list decisions", agent_id,
                                        Before(before_seq), Limit(limit));
}

absl::StatusOr<std::vector<decision::DecisionRecord>> PgTransaction::ListTenantDecisions(
    std::string_view tenant_id, int64_t before_seq, size_t limit) {
  return List<decision::DecisionRecord>(kListTenantDecisions, "list decisions", tenant_id,
                                        Before(before_seq), Limit(limit));
}

absl::StatusOr<std::vector<Transaction::DecisionHead>> PgTransaction::ListLatestDecisionKeys() {
  absl::StatusOr<Result> r = Exec(kListDecisionHeads, Params(), "list decision heads");
  if (!r.ok()) return r.status();
  std::vector<DecisionHead> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row) {
    out.push_back(
        DecisionHead{std::string(r->Text(row, 0)), r->Int(row, 1), std::string(r->Text(row, 2))});
  }
  return out;
}

absl::StatusOr<int64_t> PgTransaction::DeleteDecisionsBefore(Time cutoff) {
  Params p(cutoff);
  absl::StatusOr<Result> r = Write(kDeleteDecisionsBefore, p, "delete old decisions", false);
  if (!r.ok()) return r.status();
  return r->Changed();
}

}  // namespace spotopt::pg
