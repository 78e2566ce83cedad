// MemoryStore's state: its tables and their indexes, the price store, the undo log's
// entries, and the storage constraints (state.cc), behind one reader-writer lock.
#ifndef SPOTOPT_STORE_MEMORY_STATE_H_
#define SPOTOPT_STORE_MEMORY_STATE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "store/memory/compact.h"
#include "store/memory/decision_log.h"
#include "store/memory/intern.h"
#include "store/memory/packed_id.h"
#include "store/memory/price_store.h"
#include "store/memory/tables.h"

namespace spotopt::memory {

// One write to take back: the row of an R was inserted (Inserted<R>), or was updated
// and held *old before (Updated<R>). Inserts, the common case, cost no copy of the
// record.
template <typename R>
struct Inserted {
  using Record = R;
};
template <typename R>
struct Updated {
  using Record = R;
  std::unique_ptr<Stored<R>> old;
};

template <typename... R>
using UndoOp = std::variant<Inserted<R>..., Updated<R>..., std::unique_ptr<PriceDeletion>,
                            std::unique_ptr<DecisionUndo>>;

struct UndoEntry {
  Row row;  // unused for price deletions and the decision log
  UndoOp<Tenant, ApiToken, Agent, AgentAlias, Registration, Command, Replica, Incident, AgentEvent,
         SwitchRecord, CleanupLog, RunSegment>
      op;
};

// The identity an Update must not change (store.h); SqliteStore matches the same
// fields in its UPDATE statements. Stored rows compare as their records do: equal
// strings intern to equal symbols and ids.
bool SameIdentity(const CompactAgent& a, const CompactAgent& b);
bool SameIdentity(const CompactRegistration& a, const CompactRegistration& b);
bool SameIdentity(const Command& a, const Command& b);
bool SameIdentity(const Replica& a, const Replica& b);
// Everything but ended_at.
bool SameIdentity(const CompactRunSegment& a, const CompactRunSegment& b);
template <typename R>
bool SameIdentity(const R&, const R&) {
  return true;
}

// Everything a MemoryStore holds. MemoryStore::State, the name its public header
// gives it, derives from this (memory_store.cc), so that this folder's files name it
// in their own namespace.
struct Database {
  // A standard mutex rather than absl::Mutex: Debian's prebuilt Abseil is invisible
  // to ThreadSanitizer, which then reports races that the lock prevents.
  // Untimed locking on purpose: ThreadSanitizer does not see the clock-based
  // variants, and in-memory transactions are short, so Begin simply waits.
  std::shared_mutex mu;
  int64_t next_seq = 1;
  int64_t next_price_seq = 1;     // numbered apart from commands, as SQLite does
  int64_t next_decision_seq = 1;  // likewise

  // The strings compact rows name by symbol, and the ids that are not UUIDs.
  Interner names;
  std::tuple<Table<Tenant>, Table<ApiToken>, Table<Agent>, Table<AgentAlias>, Table<Registration>,
             Table<Command>, Table<Replica>, Table<Incident>, Table<AgentEvent>,
             Table<SwitchRecord>, Table<CleanupLog>, Table<RunSegment>>
      tables;
  PriceStore prices;
  DecisionLog decisions;

  RowLists<ApiToken, TenantOf> tokens_by_tenant{&rows<ApiToken>()};
  RowLists<Agent, TenantOf> agents_by_tenant{&rows<Agent>()};
  RowLists<AgentAlias, TenantOf> aliases_by_tenant{&rows<AgentAlias>()};
  RowIndex<Agent, LogicalKey> agent_by_logical{&rows<Agent>()};
  // Active agents, by config.replica_mode.
  std::array<absl::flat_hash_set<Row>, 3> active_agents_by_mode;
  RowLists<Registration, AgentOf> registrations_by_agent{&rows<Registration>()};
  RowIndex<Registration, InstanceKey> registration_by_instance{&rows<Registration>()};
  RowLists<Command, AgentOf> commands_by_agent{&rows<Command>()};
  RowLists<Command, AgentOf> open_commands_by_agent{&rows<Command>()};  // PENDING or LEASED
  RowLists<Replica, AgentOf> replicas_by_agent{&rows<Replica>()};
  absl::flat_hash_map<std::string, Row, StringHash, StringEq> live_replica_by_agent;
  RowLists<Incident, AgentOf> incidents_by_agent{&rows<Incident>()};
  absl::flat_hash_set<Row> open_incidents;
  RowLists<AgentEvent, AgentOf> events_by_agent{&rows<AgentEvent>()};
  RowLists<SwitchRecord, AgentOf> switches_by_agent{&rows<SwitchRecord>()};
  RowLists<CleanupLog, AgentOf> cleanup_logs_by_agent{&rows<CleanupLog>()};
  RowLists<RunSegment, AgentOf> run_segments_by_agent{&rows<RunSegment>()};
  RowLists<RunSegment, TenantOf> run_segments_by_tenant{&rows<RunSegment>()};
  RowIndex<RunSegment, OpenSegmentKey> open_segments{&rows<RunSegment>()};

  template <typename R>
  Table<R>& table() {
    return std::get<Table<R>>(tables);
  }
  template <typename R>
  Rows<Stored<R>>& rows() {
    return table<R>().rows;
  }

  // The record in `row`, decoded.
  template <typename R>
  R Load(Row row) {
    return Decode(rows<R>()[row], names);
  }

  // `text` as the lists or indexes key it; nullopt when no row can hold it.
  template <typename Key>
  std::optional<Key> Lookup(std::string_view text) const {
    if constexpr (std::is_same_v<Key, PackedId>) {
      return PackedId::Find(text, names);
    } else if constexpr (std::is_same_v<Key, Symbol>) {
      return names.Find(text);
    } else {
      return text;
    }
  }

  // The row of the record with primary key `key` (its text, for packed ids).
  template <typename R, typename Key>
  std::optional<Row> FindRow(const Key& key) {
    using StoredKey = typename RowIndex<R, typename Traits<R>::Key>::Key;
    if constexpr (std::is_same_v<StoredKey, PackedId>) {
      std::optional<PackedId> id = Lookup<PackedId>(key);
      if (!id) return std::nullopt;
      return table<R>().by_key.Find(*id);
    } else {
      return table<R>().by_key.Find(key);
    }
  }

  template <typename R, typename Key>
  absl::StatusOr<R> Get(const Key& key) {
    std::optional<Row> row = FindRow<R>(key);
    if (!row) return NotFound<R>(KeyText(key));
    return Load<R>(*row);
  }

  template <typename R>
  static absl::Status NotFound(std::string_view key_text) {
    return absl::NotFoundError(fmt::format("{} {} not found", Traits<R>::kName, key_text));
  }

  std::string KeyText(const PackedId& id) const { return id.ToString(names); }
  template <typename Key>
  static std::string KeyText(const Key& key) {
    return memory::KeyText(key);
  }

  // Appends the record; the caller has checked key and constraints.
  template <typename R>
  Row Append(Stored<R> record) {
    Rows<Stored<R>>& all = rows<R>();
    all.push_back(std::move(record));
    Row row = static_cast<Row>(all.size() - 1);
    table<R>().by_key.Insert(row);
    IndexKeys<R>(all[row], row, true);
    Relink(nullptr, &all[row], row);
    return row;
  }

  // Puts `record` into `row` and hands back what the row held. The primary key stays.
  template <typename R>
  void Replace(Row row, Stored<R>& record) {
    Stored<R>& current = rows<R>()[row];
    IndexKeys<R>(current, row, false);
    std::swap(current, record);
    IndexKeys<R>(current, row, true);
    Relink(&record, &current, row);
  }

  template <typename R>
  void RemoveLast(Row row) {
    Rows<Stored<R>>& all = rows<R>();
    Relink(&all[row], nullptr, row);
    IndexKeys<R>(all[row], row, false);
    table<R>().by_key.Erase(row);
    all.pop_back();
  }

  // Insert and Update intern the record's strings before they check it: a refused
  // write leaves its strings in `names`, as a rollback does.
  template <typename R>
  absl::Status Insert(R record, std::vector<UndoEntry>& undo) {
    Stored<R> stored = Encode(std::move(record), names);
    auto key = typename Traits<R>::Key()(stored);
    if (table<R>().by_key.Find(key)) {
      return absl::AlreadyExistsError(
          fmt::format("{} {} already exists", Traits<R>::kName, KeyText(key)));
    }
    if (absl::Status s = Check(stored, std::nullopt); !s.ok()) return s;
    Row row = Append<R>(std::move(stored));
    undo.push_back(UndoEntry{row, Inserted<R>()});
    return absl::OkStatus();
  }

  template <typename R>
  absl::Status Update(R record, std::vector<UndoEntry>& undo) {
    Stored<R> stored = Encode(std::move(record), names);
    auto key = typename Traits<R>::Key()(stored);
    std::optional<Row> row = table<R>().by_key.Find(key);
    if (!row) return NotFound<R>(KeyText(key));
    if (!SameIdentity(rows<R>()[*row], stored)) {
      return absl::FailedPreconditionError(
          fmt::format("{} {}: its identity cannot change", Traits<R>::kName, KeyText(key)));
    }
    if (absl::Status s = Check(stored, row); !s.ok()) return s;
    if constexpr (std::is_same_v<R, Command>) stored.seq = rows<Command>()[*row].seq;
    Replace<R>(*row, stored);
    undo.push_back(UndoEntry{*row, Updated<R>{std::make_unique<Stored<R>>(std::move(stored))}});
    return absl::OkStatus();
  }

  void Undo(UndoEntry& entry);

  // Copies `selected` rows out in the order of `less`.
  template <typename R, typename Less>
  std::vector<R> Collect(const std::vector<Row>& selected, Less less) {
    std::vector<R> out;
    out.reserve(selected.size());
    for (Row row : selected) out.push_back(Load<R>(row));
    std::sort(out.begin(), out.end(), less);
    return out;
  }

  template <typename R, typename OwnerOf, typename Less>
  std::vector<R> CollectList(const RowLists<R, OwnerOf>& lists, std::string_view owner, Less less) {
    using Owner = typename RowLists<R, OwnerOf>::Owner;
    std::optional<Owner> key = Lookup<Owner>(owner);
    if (!key) return {};
    return Collect<R>(lists.Of(*key), less);
  }

  // Storage constraints, checked before anything is written. `self` is the row being
  // updated, absent for an insert.
  template <typename R>
  absl::Status Check(const R&, std::optional<Row>) {
    return absl::OkStatus();
  }

  absl::Status Check(const CompactAgent& a, std::optional<Row> self);
  absl::Status Check(const CompactRegistration& r, std::optional<Row> self);
  absl::Status Check(const Command& c, std::optional<Row> self);
  absl::Status Check(const Replica& r, std::optional<Row> self);
  absl::Status Check(const CompactRunSegment& s, std::optional<Row> self);

  // Unique secondary keys hash the row's contents, so they are taken out before the row
  // changes and put back after.
  template <typename R>
  void IndexKeys(const Stored<R>& record, Row row, bool add) {
    if constexpr (std::is_same_v<R, Agent>) {
      add ? agent_by_logical.Insert(row) : agent_by_logical.Erase(row);
    } else if constexpr (std::is_same_v<R, Registration>) {
      add ? registration_by_instance.Insert(row) : registration_by_instance.Erase(row);
    } else if constexpr (std::is_same_v<R, RunSegment>) {
      if (!record.ended_at.has_value()) {
        add ? open_segments.Insert(row) : open_segments.Erase(row);
      }
    }
  }

  // Moves `row` in the lists and sets from where `before` put it to where `after` puts
  // it; null stands for "no record".
  void Relink(const Tenant*, const Tenant*, Row);
  void Relink(const ApiToken* before, const ApiToken* after, Row row);
  void Relink(const CompactAgent* before, const CompactAgent* after, Row row);
  void Relink(const AgentAlias* before, const AgentAlias* after, Row row);
  void Relink(const CompactRegistration* before, const CompactRegistration* after, Row row);
  void Relink(const Command* before, const Command* after, Row row);
  void Relink(const Replica* before, const Replica* after, Row row);
  void Relink(const Incident* before, const Incident* after, Row row);
  void Relink(const AgentEvent* before, const AgentEvent* after, Row row);
  void Relink(const SwitchRecord* before, const SwitchRecord* after, Row row);
  void Relink(const CleanupLog* before, const CleanupLog* after, Row row);
  void Relink(const CompactRunSegment* before, const CompactRunSegment* after, Row row);

  // The set or owner a record is indexed under, if any.
  absl::flat_hash_set<Row>* ModeSet(const CompactAgent* a);
  static const Command* IfOpen(const Command* c);
  static const std::string* LiveOwner(const Replica* r);
  absl::flat_hash_set<Row>* OpenSet(const Incident* i);
};

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_STATE_H_
