// SqliteTransaction: the command queue.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

absl::StatusOr<Command> SqliteTransaction::GetCommand(std::string_view id) {
  return Get<Command>(kGetCommand, "command", id);
}
absl::StatusOr<int64_t> SqliteTransaction::InsertCommand(const Command& c) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  int64_t seq = 0;
  {
    Query q(*conn_, kNextCommandSeq);
    const int rc = q.Step();
    if (rc != SQLITE_ROW) return q.Error(rc, "insert command");
    seq = q.Int(0);
  }
  Command stored = c;
  stored.seq = seq;
  if (absl::Status s = Insert(kInsertCommand, "insert command", stored, kGetCommand, c.id);
      !s.ok()) {
    return s;
  }
  return seq;
}
absl::Status SqliteTransaction::UpdateCommand(const Command& c) {
  return UpdateIdentified(kUpdateCommand, "update command", c, kGetCommand, c.id);
}
absl::StatusOr<std::vector<Command>> SqliteTransaction::ListOpenCommands(
    std::string_view agent_id) {
  return List<Command>(kListOpenCommands, "list commands", agent_id);
}
absl::StatusOr<std::vector<Command>> SqliteTransaction::ListCommands(std::string_view agent_id) {
  return List<Command>(kListCommands, "list commands", agent_id);
}
absl::StatusOr<std::vector<Command>> SqliteTransaction::ListDueCommands(Time now) {
  return List<Command>(kListDueCommands, "list due commands", now);
}
absl::StatusOr<std::vector<Command>> SqliteTransaction::ListCommandsSince(Time since) {
  return List<Command>(kListCommandsSince, "list recent commands", since);
}

// ?11 (seq) exists only in the INSERT; an UPDATE never moves a command's seq.
void SqliteTransaction::BindRow(Query& q, const Command& c, const std::string& doc) {
  q.Bind(1, c.id);
  q.Bind(2, c.tenant_id);
  q.Bind(3, c.agent_id);
  q.Bind(4, ToString(c.type));
  q.Bind(5, ToString(c.state));
  q.Bind(6, static_cast<int64_t>(c.priority));
  q.Bind(7, c.created_at);
  q.Bind(8, c.expires_at);
  q.Bind(9, c.lease_expires_at);
  q.Bind(10, doc);
  q.Bind(11, c.seq);
}

}  // namespace spotopt::sqlite
