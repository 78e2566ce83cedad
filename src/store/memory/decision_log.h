// MemoryStore's decision log: records by seq, listed per agent and per tenant, and
// each agent's latest entry with its key. Unlike the other tables it deletes
// (retention), so it keeps ordered maps instead of append-only rows, and its writes
// undo through DecisionUndo.
#ifndef SPOTOPT_STORE_MEMORY_DECISION_LOG_H_
#define SPOTOPT_STORE_MEMORY_DECISION_LOG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "spotopt/store/store.h"
#include "store/memory/tables.h"

namespace spotopt::memory {

// What one insert or deletion changed, to put back on rollback.
struct DecisionUndo {
  std::vector<int64_t> inserted;
  std::vector<decision::DecisionRecord> deleted;
  // Heads as they were before the change (nullopt: the agent had none).
  std::vector<std::pair<std::string, std::optional<Transaction::DecisionHead>>> heads;
};

class DecisionLog {
 public:
  // The record must carry its seq. AlreadyExists for a known id.
  absl::Status Insert(const decision::DecisionRecord& d, DecisionUndo* undo);
  // Deletes records decided before `cutoff` except each agent's latest.
  int64_t DeleteBefore(Time cutoff, DecisionUndo* undo);
  void Undo(const DecisionUndo& undo);

  std::vector<decision::DecisionRecord> OfAgent(std::string_view agent_id, int64_t before_seq,
                                                size_t limit) const;
  std::vector<decision::DecisionRecord> OfTenant(std::string_view tenant_id, int64_t before_seq,
                                                 size_t limit) const;
  std::vector<Transaction::DecisionHead> Heads() const;

 private:
  using SeqLists = absl::flat_hash_map<std::string, std::set<int64_t>, StringHash, StringEq>;
  std::vector<decision::DecisionRecord> Newest(const SeqLists& lists, std::string_view owner,
                                               int64_t before_seq, size_t limit) const;
  void Add(const decision::DecisionRecord& d);
  void Remove(int64_t seq);

  std::map<int64_t, decision::DecisionRecord> by_seq_;
  absl::flat_hash_map<std::string, int64_t, StringHash, StringEq> seq_by_id_;
  SeqLists by_agent_;
  SeqLists by_tenant_;
  std::map<std::string, Transaction::DecisionHead, std::less<>> heads_;
};

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_DECISION_LOG_H_
