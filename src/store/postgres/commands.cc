// PgTransaction: the command queue. A command's seq comes from a sequence before the
// row is written, so that its document carries it, as in the other stores.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres/transaction.h"

namespace spotopt::pg {

absl::StatusOr<Command> PgTransaction::GetCommand(std::string_view id) {
  return Get<Command>(kGetCommand, "command", id);
}
absl::StatusOr<int64_t> PgTransaction::InsertCommand(const Command& c) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  absl::StatusOr<Result> next = Exec(kNextCommandSeq, Params(), "insert command");
  if (!next.ok()) return next.status();
  Command stored = c;
  stored.seq = next->Int(0, 0);
  if (absl::Status s = InsertConstrained(kInsertCommand, "insert command", stored, kGetCommand,
                                         c.id, stored.seq);
      !s.ok()) {
    return s;
  }
  return stored.seq;
}
absl::Status PgTransaction::UpdateCommand(const Command& c) {
  return Update(kUpdateCommand, "update command", c, /*guarded=*/true, kGetCommand, c.id);
}
absl::StatusOr<std::vector<Command>> PgTransaction::ListOpenCommands(std::string_view agent_id) {
  return List<Command>(kListOpenCommands, "list commands", agent_id);
}
absl::StatusOr<std::vector<Command>> PgTransaction::ListCommands(std::string_view agent_id) {
  return List<Command>(kListCommands, "list commands", agent_id);
}
absl::StatusOr<std::vector<Command>> PgTransaction::ListDueCommands(Time now) {
  return List<Command>(kListDueCommands, "list due commands", now);
}
absl::StatusOr<std::vector<Command>> PgTransaction::ListCommandsSince(Time since) {
  return List<Command>(kListCommandsSince, "list recent commands", since);
}

// The insert adds the seq as $11; an update never moves it.
void PgTransaction::BindRow(Params& p, const Command& c, const std::string& doc) {
  p.Add(c.id);
  p.Add(c.tenant_id);
  p.Add(c.agent_id);
  p.Add(ToString(c.type));
  p.Add(ToString(c.state));
  p.Add(static_cast<int64_t>(c.priority));
  p.Add(c.created_at);
  p.Add(c.expires_at);
  p.Add(c.lease_expires_at);
  p.Add(doc);
}

}  // namespace spotopt::pg
