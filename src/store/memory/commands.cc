// MemoryTransaction: the command queue.
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "fmt/format.h"
#include "store/memory/transaction.h"

namespace spotopt::memory {

namespace {

bool ByDelivery(const Command& a, const Command& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return std::tie(a.created_at, a.seq) < std::tie(b.created_at, b.seq);
}

}  // namespace

absl::StatusOr<Command> MemoryTransaction::GetCommand(std::string_view id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<Command>(id);
}
absl::StatusOr<int64_t> MemoryTransaction::InsertCommand(const Command& c) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  Command record = c;
  record.seq = state_->next_seq;
  if (absl::Status s = state_->Insert(std::move(record), undo_); !s.ok()) return s;
  return state_->next_seq++;
}
absl::Status MemoryTransaction::UpdateCommand(const Command& c) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(c, undo_);
}
absl::StatusOr<std::vector<Command>> MemoryTransaction::ListOpenCommands(
    std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<Command>(state_->open_commands_by_agent, agent_id, ByDelivery);
}
absl::StatusOr<std::vector<Command>> MemoryTransaction::ListCommands(std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<Command>(state_->commands_by_agent, agent_id, ByDelivery);
}
absl::StatusOr<std::vector<Command>> MemoryTransaction::ListDueCommands(Time now) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  const Rows<Command>& commands = state_->rows<Command>();
  std::vector<Row> due;
  state_->open_commands_by_agent.ForEachRow([&](Row row) {
    const Command& c = commands[row];
    bool is_due = c.state == CommandState::kPending
                      ? c.expires_at <= now
                      : c.lease_expires_at.has_value() && *c.lease_expires_at <= now;
    if (is_due) due.push_back(row);
  });
  return state_->Collect<Command>(due, ByDelivery);
}

absl::StatusOr<std::vector<Command>> MemoryTransaction::ListCommandsSince(Time since) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  // Rows are in insertion order, which is seq order.
  const Rows<Command>& commands = state_->rows<Command>();
  std::vector<Command> out;
  for (size_t row = 0; row < commands.size(); ++row) {
    if (commands[row].created_at >= since) out.push_back(commands[row]);
  }
  return out;
}

}  // namespace spotopt::memory
