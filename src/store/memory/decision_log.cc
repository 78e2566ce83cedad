#include "store/memory/decision_log.h"

#include <limits>

#include <fmt/format.h>

namespace spotopt::memory {

absl::Status DecisionLog::Insert(const decision::DecisionRecord& d, DecisionUndo* undo) {
  if (seq_by_id_.contains(d.id)) {
    return absl::AlreadyExistsError(fmt::format("decision {} already exists", d.id));
  }
  const auto head = heads_.find(d.agent_id);
  undo->heads.emplace_back(
      d.agent_id,
      head == heads_.end() ? std::nullopt : std::optional<Transaction::DecisionHead>(head->second));
  Add(d);
  heads_[d.agent_id] =
      Transaction::DecisionHead{d.agent_id, d.seq, decision::DecisionKey(d.decision)};
  undo->inserted.push_back(d.seq);
  return absl::OkStatus();
}

int64_t DecisionLog::DeleteBefore(Time cutoff, DecisionUndo* undo) {
  std::vector<int64_t> doomed;
  for (const auto& [seq, d] : by_seq_) {
    if (d.decided_at >= cutoff) continue;
    const auto head = heads_.find(d.agent_id);
    if (head != heads_.end() && head->second.seq == seq) continue;  // the agent's latest
    doomed.push_back(seq);
  }
  for (int64_t seq : doomed) {
    undo->deleted.push_back(by_seq_.at(seq));
    Remove(seq);
  }
  return static_cast<int64_t>(doomed.size());
}

void DecisionLog::Undo(const DecisionUndo& undo) {
  for (auto it = undo.inserted.rbegin(); it != undo.inserted.rend(); ++it) Remove(*it);
  for (const decision::DecisionRecord& d : undo.deleted) Add(d);
  for (auto it = undo.heads.rbegin(); it != undo.heads.rend(); ++it) {
    if (it->second) {
      heads_[it->first] = *it->second;
    } else {
      heads_.erase(it->first);
    }
  }
}

std::vector<decision::DecisionRecord> DecisionLog::OfAgent(std::string_view agent_id,
                                                           int64_t before_seq, size_t limit) const {
  return Newest(by_agent_, agent_id, before_seq, limit);
}

std::vector<decision::DecisionRecord> DecisionLog::OfTenant(std::string_view tenant_id,
                                                            int64_t before_seq,
                                                            size_t limit) const {
  return Newest(by_tenant_, tenant_id, before_seq, limit);
}

std::vector<Transaction::DecisionHead> DecisionLog::Heads() const {
  std::vector<Transaction::DecisionHead> out;
  out.reserve(heads_.size());
  for (const auto& [agent, head] : heads_) out.push_back(head);
  return out;
}

std::vector<decision::DecisionRecord> DecisionLog::Newest(const SeqLists& lists,
                                                          std::string_view owner,
                                                          int64_t before_seq, size_t limit) const {
  std::vector<decision::DecisionRecord> out;
  const auto it = lists.find(owner);
  if (it == lists.end()) return out;
  const int64_t before = before_seq > 0 ? before_seq : std::numeric_limits<int64_t>::max();
  for (auto seq = std::make_reverse_iterator(it->second.lower_bound(before));
       seq != it->second.rend() && out.size() < limit; ++seq) {
    out.push_back(by_seq_.at(*seq));
  }
  return out;
}

void DecisionLog::Add(const decision::DecisionRecord& d) {
  by_seq_[d.seq] = d;
  seq_by_id_[d.id] = d.seq;
  by_agent_[d.agent_id].insert(d.seq);
  by_tenant_[d.tenant_id].insert(d.seq);
}

void DecisionLog::Remove(int64_t seq) {
  const auto it = by_seq_.find(seq);
  const decision::DecisionRecord& d = it->second;
  seq_by_id_.erase(d.id);
  for (auto [lists, owner] : {std::pair{&by_agent_, &d.agent_id}, {&by_tenant_, &d.tenant_id}}) {
    const auto list = lists->find(*owner);
    list->second.erase(seq);
    if (list->second.empty()) lists->erase(list);
  }
  by_seq_.erase(it);
}

}  // namespace spotopt::memory
