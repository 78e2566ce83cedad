// MemoryStore keeps every record by value in an append-only row array per record type
// (chunked: rows never move, so indexes refer to them by row number). Records are
// never deleted through the interface; only the rollback of an insert removes a row, and
// as writers are serialized and undo runs in reverse, that row is always the last one.
//
// Indexes: the primary key and the unique secondary keys are hash sets of row numbers
// that hash the key stored in the row itself (a few bytes per record instead of a copy
// of the key); per-tenant and per-agent lists map the owner id to row numbers.
#include "spotopt/store/memory_store.h"

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
#include "absl/hash/hash.h"
#include "fmt/format.h"

namespace spotopt {
namespace {

using Row = uint32_t;
using KeyPair = std::pair<std::string_view, std::string_view>;

// Primary keys.
struct TenantKey {
  std::string_view operator()(const Tenant& t) const { return t.id; }
};
struct TokenKey {
  std::string_view operator()(const ApiToken& t) const { return t.prefix; }
};
struct AgentKey {
  std::string_view operator()(const Agent& a) const { return a.id; }
};
struct AliasKey {
  KeyPair operator()(const AgentAlias& a) const { return {a.tenant_id, a.logical_id}; }
};
struct RegistrationKey {
  std::string_view operator()(const Registration& r) const { return r.id; }
};
struct CommandKey {
  std::string_view operator()(const Command& c) const { return c.id; }
};
struct ReplicaKey {
  std::string_view operator()(const Replica& r) const { return r.id; }
};
struct IncidentKey {
  std::string_view operator()(const Incident& i) const { return i.id; }
};
struct EventKey {
  std::string_view operator()(const AgentEvent& e) const { return e.id; }
};
struct PriceKey {
  int64_t operator()(const PriceObservation& o) const { return o.seq; }
};
struct SwitchKey {
  std::string_view operator()(const SwitchRecord& s) const { return s.id; }
};
struct CleanupKey {
  std::string_view operator()(const CleanupLog& l) const { return l.id; }
};
// Unique secondary keys.
struct LogicalKey {
  KeyPair operator()(const Agent& a) const { return {a.tenant_id, a.logical_id}; }
};
struct InstanceKey {
  KeyPair operator()(const Registration& r) const { return {r.agent_id, r.instance_id}; }
};

template <typename R>
struct Traits;
template <>
struct Traits<Tenant> {
  using Key = TenantKey;
  static constexpr std::string_view kName = "tenant";
};
template <>
struct Traits<ApiToken> {
  using Key = TokenKey;
  static constexpr std::string_view kName = "token";
};
template <>
struct Traits<Agent> {
  using Key = AgentKey;
  static constexpr std::string_view kName = "agent";
};
template <>
struct Traits<AgentAlias> {
  using Key = AliasKey;
  static constexpr std::string_view kName = "alias";
};
template <>
struct Traits<Registration> {
  using Key = RegistrationKey;
  static constexpr std::string_view kName = "registration";
};
template <>
struct Traits<Command> {
  using Key = CommandKey;
  static constexpr std::string_view kName = "command";
};
template <>
struct Traits<Replica> {
  using Key = ReplicaKey;
  static constexpr std::string_view kName = "replica";
};
template <>
struct Traits<Incident> {
  using Key = IncidentKey;
  static constexpr std::string_view kName = "incident";
};
template <>
struct Traits<AgentEvent> {
  using Key = EventKey;
  static constexpr std::string_view kName = "event";
};

template <>
struct Traits<PriceObservation> {
  using Key = PriceKey;
  static constexpr std::string_view kName = "price observation";
};
template <>
struct Traits<SwitchRecord> {
  using Key = SwitchKey;
  static constexpr std::string_view kName = "switch";
};
template <>
struct Traits<CleanupLog> {
  using Key = CleanupKey;
  static constexpr std::string_view kName = "cleanup log";
};

std::string KeyText(std::string_view key) { return std::string(key); }
std::string KeyText(int64_t key) { return std::to_string(key); }
std::string KeyText(const KeyPair& key) { return fmt::format("{}/{}", key.first, key.second); }

// This Abseil build has its own string_view type, so std::string_view keys are hashed
// through it.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }
size_t HashKey(std::string_view key) { return absl::Hash<absl::string_view>()(AbslView(key)); }
size_t HashKey(int64_t key) { return absl::Hash<int64_t>()(key); }
size_t HashKey(const KeyPair& key) {
  return absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
      {AbslView(key.first), AbslView(key.second)});
}

// Lets maps keyed by std::string be searched with a std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return HashKey(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// Records by value in fixed-size chunks: no per-record allocation, no reallocation peak
// while growing, and a row's address never changes.
template <typename R>
class Rows {
 public:
  size_t size() const { return size_; }
  R& operator[](size_t row) { return chunks_[row / kChunk][row % kChunk]; }
  const R& operator[](size_t row) const { return chunks_[row / kChunk][row % kChunk]; }

  void push_back(R record) {
    if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<R[]>(kChunk));
    (*this)[size_++] = std::move(record);
  }
  // Frees what the last record holds; its slot stays for the next push_back.
  void pop_back() { (*this)[--size_] = R(); }

 private:
  static constexpr size_t kChunk = 256;
  std::vector<std::unique_ptr<R[]>> chunks_;
  size_t size_ = 0;
};

// A set of rows found by a key read from the rows themselves.
template <typename R, typename KeyOf>
class RowIndex {
 public:
  using Key = std::decay_t<decltype(KeyOf()(std::declval<const R&>()))>;

  explicit RowIndex(const Rows<R>* rows) : set_(0, Hash{rows}, Eq{rows}) {}
  RowIndex(const RowIndex&) = delete;
  RowIndex& operator=(const RowIndex&) = delete;

  std::optional<Row> Find(const Key& key) const {
    auto it = set_.find(key);
    if (it == set_.end()) return std::nullopt;
    return *it;
  }
  // The row's key must not be in the index yet (callers check first).
  void Insert(Row row) { set_.insert(row); }
  // Must run while the row still holds the key it was inserted with.
  void Erase(Row row) { set_.erase(row); }

 private:
  struct Hash {
    using is_transparent = void;
    const Rows<R>* rows;
    size_t operator()(Row row) const { return (*this)(KeyOf()((*rows)[row])); }
    size_t operator()(const Key& key) const { return HashKey(key); }
  };
  struct Eq {
    using is_transparent = void;
    const Rows<R>* rows;
    Key At(Row row) const { return KeyOf()((*rows)[row]); }
    bool operator()(Row a, Row b) const { return At(a) == At(b); }
    bool operator()(Row a, const Key& b) const { return At(a) == b; }
    bool operator()(const Key& a, Row b) const { return a == At(b); }
  };
  absl::flat_hash_set<Row, Hash, Eq> set_;
};

template <typename R>
struct Table {
  Table() = default;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  Rows<R> rows;
  RowIndex<R, typename Traits<R>::Key> by_key{&rows};
};

// Owner id -> rows it owns, in insertion order (lists sort on the way out).
using RowLists = absl::flat_hash_map<std::string, std::vector<Row>, StringHash, StringEq>;

void AddRow(RowLists& lists, const std::string& key, Row row) { lists[key].push_back(row); }

void RemoveRow(RowLists& lists, const std::string& key, Row row) {
  auto it = lists.find(key);
  std::vector<Row>& rows = it->second;
  // Rows leave mostly from the back (rollbacks), so search from there.
  rows.erase(std::find(rows.rbegin(), rows.rend(), row).base() - 1);
  if (rows.empty()) lists.erase(it);
}

// Moves `row` from the list of `from` to the list of `to`; null means "not listed".
void Relist(RowLists& lists, const std::string* from, const std::string* to, Row row) {
  if (from != nullptr && to != nullptr && *from == *to) return;
  if (from != nullptr) RemoveRow(lists, *from, row);
  if (to != nullptr) AddRow(lists, *to, row);
}

void MoveInSets(absl::flat_hash_set<Row>* from, absl::flat_hash_set<Row>* to, Row row) {
  if (from == to) return;
  if (from != nullptr) from->erase(row);
  if (to != nullptr) to->insert(row);
}

// One write to take back: the row of an R was inserted (Inserted<R>), or was updated
// and held *old before. Inserts, the common case, cost no copy of the record.
template <typename R>
struct Inserted {
  using Record = R;
};
template <typename... R>
using UndoOp = std::variant<Inserted<R>..., std::unique_ptr<R>...>;

struct UndoEntry {
  Row row;
  UndoOp<Tenant, ApiToken, Agent, AgentAlias, Registration, Command, Replica, Incident, AgentEvent,
         PriceObservation, SwitchRecord, CleanupLog>
      op;
};

// The (tenant, region, instance type) a price observation belongs to.
std::string PriceSeries(std::string_view tenant_id, std::string_view region,
                        std::string_view instance_type) {
  return fmt::format("{}\x1f{}\x1f{}", tenant_id, region, instance_type);
}

bool ByDelivery(const Command& a, const Command& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return std::tie(a.created_at, a.seq) < std::tie(b.created_at, b.seq);
}

}  // namespace

// The identity an Update must not change (store.h); SqliteStore matches the same
// fields in its UPDATE statements.
bool SameIdentity(const Agent& a, const Agent& b) {
  return a.tenant_id == b.tenant_id && a.created_at == b.created_at;
}
bool SameIdentity(const Registration& a, const Registration& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.instance_id == b.instance_id &&
         a.created_at == b.created_at;
}
bool SameIdentity(const Command& a, const Command& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.type == b.type &&
         a.created_at == b.created_at;
}
bool SameIdentity(const Replica& a, const Replica& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.created_at == b.created_at;
}
template <typename R>
bool SameIdentity(const R&, const R&) {
  return true;
}

struct MemoryStore::State {
  // A standard mutex rather than absl::Mutex: Debian's prebuilt Abseil is invisible
  // to ThreadSanitizer, which then reports races that the lock prevents.
  // Untimed locking on purpose: ThreadSanitizer does not see the clock-based
  // variants, and in-memory transactions are short, so Begin simply waits.
  std::shared_mutex mu;
  int64_t next_seq = 1;
  int64_t next_price_seq = 1;  // numbered apart from commands, as SQLite does

  std::tuple<Table<Tenant>, Table<ApiToken>, Table<Agent>, Table<AgentAlias>, Table<Registration>,
             Table<Command>, Table<Replica>, Table<Incident>, Table<AgentEvent>,
             Table<PriceObservation>, Table<SwitchRecord>, Table<CleanupLog>>
      tables;

  RowLists tokens_by_tenant;
  RowLists agents_by_tenant;
  RowLists aliases_by_tenant;
  RowIndex<Agent, LogicalKey> agent_by_logical{&rows<Agent>()};
  // Active agents, by config.replica_mode.
  std::array<absl::flat_hash_set<Row>, 3> active_agents_by_mode;
  RowLists registrations_by_agent;
  RowIndex<Registration, InstanceKey> registration_by_instance{&rows<Registration>()};
  RowLists commands_by_agent;
  RowLists open_commands_by_agent;  // PENDING or LEASED
  RowLists replicas_by_agent;
  absl::flat_hash_map<std::string, Row, StringHash, StringEq> live_replica_by_agent;
  RowLists incidents_by_agent;
  absl::flat_hash_set<Row> open_incidents;
  RowLists events_by_agent;
  RowLists prices_by_tenant;
  RowLists prices_by_series;  // PriceSeries(tenant, region, instance type)
  RowLists switches_by_agent;
  RowLists cleanup_logs_by_agent;

  template <typename R>
  Table<R>& table() {
    return std::get<Table<R>>(tables);
  }
  template <typename R>
  Rows<R>& rows() {
    return table<R>().rows;
  }

  template <typename R, typename Key>
  absl::StatusOr<R> Get(const Key& key) {
    std::optional<Row> row = table<R>().by_key.Find(key);
    if (!row) return NotFound<R>(key);
    return rows<R>()[*row];
  }

  template <typename R, typename Key>
  static absl::Status NotFound(const Key& key) {
    return absl::NotFoundError(fmt::format("{} {} not found", Traits<R>::kName, KeyText(key)));
  }

  // Appends the record; the caller has checked key and constraints.
  template <typename R>
  Row Append(R record) {
    Rows<R>& all = rows<R>();
    all.push_back(std::move(record));
    Row row = static_cast<Row>(all.size() - 1);
    table<R>().by_key.Insert(row);
    IndexKeys(all[row], row, true);
    Relink(nullptr, &all[row], row);
    return row;
  }

  // Puts `record` into `row` and hands back what the row held. The primary key stays.
  template <typename R>
  void Replace(Row row, R& record) {
    R& current = rows<R>()[row];
    IndexKeys(current, row, false);
    std::swap(current, record);
    IndexKeys(current, row, true);
    Relink(&record, &current, row);
  }

  template <typename R>
  void RemoveLast(Row row) {
    Rows<R>& all = rows<R>();
    Relink(&all[row], nullptr, row);
    IndexKeys(all[row], row, false);
    table<R>().by_key.Erase(row);
    all.pop_back();
  }

  template <typename R>
  absl::Status Insert(R record, std::vector<UndoEntry>& undo) {
    auto key = typename Traits<R>::Key()(record);
    if (table<R>().by_key.Find(key)) {
      return absl::AlreadyExistsError(
          fmt::format("{} {} already exists", Traits<R>::kName, KeyText(key)));
    }
    if (absl::Status s = Check(record, std::nullopt); !s.ok()) return s;
    Row row = Append(std::move(record));
    undo.push_back(UndoEntry{row, Inserted<R>()});
    return absl::OkStatus();
  }

  template <typename R>
  absl::Status Update(R record, std::vector<UndoEntry>& undo) {
    auto key = typename Traits<R>::Key()(record);
    std::optional<Row> row = table<R>().by_key.Find(key);
    if (!row) return NotFound<R>(key);
    if (!SameIdentity(rows<R>()[*row], record)) {
      return absl::FailedPreconditionError(
          fmt::format("{} {}: its identity cannot change", Traits<R>::kName, KeyText(key)));
    }
    if (absl::Status s = Check(record, row); !s.ok()) return s;
    if constexpr (std::is_same_v<R, Command>) record.seq = rows<Command>()[*row].seq;
    Replace(*row, record);
    undo.push_back(UndoEntry{*row, std::make_unique<R>(std::move(record))});
    return absl::OkStatus();
  }

  void Undo(UndoEntry& entry) {
    std::visit(
        [&](auto& op) {
          using Op = std::decay_t<decltype(op)>;
          if constexpr (requires { typename Op::Record; }) {
            RemoveLast<typename Op::Record>(entry.row);
          } else {
            Replace(entry.row, *op);
          }
        },
        entry.op);
  }

  // Copies `selected` rows out in the order of `less`.
  template <typename R, typename Less>
  std::vector<R> Collect(std::vector<Row> selected, Less less) {
    const Rows<R>& all = rows<R>();
    std::sort(selected.begin(), selected.end(), [&](Row a, Row b) { return less(all[a], all[b]); });
    std::vector<R> out;
    out.reserve(selected.size());
    for (Row row : selected) out.push_back(all[row]);
    return out;
  }

  template <typename R, typename Less>
  std::vector<R> CollectList(const RowLists& lists, std::string_view owner, Less less) {
    auto it = lists.find(owner);
    if (it == lists.end()) return {};
    return Collect<R>(it->second, less);
  }

  // Storage constraints, checked before anything is written. `self` is the row being
  // updated, absent for an insert.
  template <typename R>
  absl::Status Check(const R&, std::optional<Row>) {
    return absl::OkStatus();
  }

  absl::Status Check(const Agent& a, std::optional<Row> self) {
    std::optional<Row> other = agent_by_logical.Find(LogicalKey()(a));
    if (other && other != self) {
      return absl::FailedPreconditionError(fmt::format(
          "tenant {} already has an agent with logical id {}", a.tenant_id, a.logical_id));
    }
    return absl::OkStatus();
  }

  absl::Status Check(const Registration& r, std::optional<Row> self) {
    std::optional<Row> other = registration_by_instance.Find(InstanceKey()(r));
    if (other && other != self) {
      return absl::FailedPreconditionError(fmt::format(
          "agent {} already has a registration for instance {}", r.agent_id, r.instance_id));
    }
    return absl::OkStatus();
  }

  absl::Status Check(const Command& c, std::optional<Row> self) {
    if (IsClosed(c.state)) return absl::OkStatus();
    auto it = open_commands_by_agent.find(c.agent_id);
    if (it == open_commands_by_agent.end()) return absl::OkStatus();
    for (Row row : it->second) {
      if (row == self) continue;
      const Command& other = rows<Command>()[row];
      if (c.state == CommandState::kLeased && other.state == CommandState::kLeased) {
        return absl::FailedPreconditionError(
            fmt::format("agent {} already has leased command {}", c.agent_id, other.id));
      }
      if (c.is_placement() && other.is_placement()) {
        return absl::FailedPreconditionError(
            fmt::format("agent {} already has open placement command {}", c.agent_id, other.id));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Check(const Replica& r, std::optional<Row> self) {
    if (!IsLive(r.state)) return absl::OkStatus();
    auto it = live_replica_by_agent.find(r.agent_id);
    if (it != live_replica_by_agent.end() && it->second != self) {
      return absl::FailedPreconditionError(fmt::format("agent {} already has live replica {}",
                                                       r.agent_id, rows<Replica>()[it->second].id));
    }
    return absl::OkStatus();
  }

  // Unique secondary keys hash the row's contents, so they are taken out before the row
  // changes and put back after.
  template <typename R>
  void IndexKeys(const R&, Row row, bool add) {
    if constexpr (std::is_same_v<R, Agent>) {
      add ? agent_by_logical.Insert(row) : agent_by_logical.Erase(row);
    } else if constexpr (std::is_same_v<R, Registration>) {
      add ? registration_by_instance.Insert(row) : registration_by_instance.Erase(row);
    }
  }

  // Moves `row` in the lists and sets from where `before` put it to where `after` puts
  // it; null stands for "no record".
  void Relink(const Tenant*, const Tenant*, Row) {}

  void Relink(const ApiToken* before, const ApiToken* after, Row row) {
    Relist(tokens_by_tenant, before ? &before->tenant_id : nullptr,
           after ? &after->tenant_id : nullptr, row);
  }

  absl::flat_hash_set<Row>* ModeSet(const Agent* a) {
    if (a == nullptr || a->lifecycle != Lifecycle::kActive) return nullptr;
    return &active_agents_by_mode[static_cast<int>(a->config.replica_mode)];
  }

  void Relink(const Agent* before, const Agent* after, Row row) {
    Relist(agents_by_tenant, before ? &before->tenant_id : nullptr,
           after ? &after->tenant_id : nullptr, row);
    MoveInSets(ModeSet(before), ModeSet(after), row);
  }

  void Relink(const AgentAlias* before, const AgentAlias* after, Row row) {
    Relist(aliases_by_tenant, before ? &before->tenant_id : nullptr,
           after ? &after->tenant_id : nullptr, row);
  }

  void Relink(const Registration* before, const Registration* after, Row row) {
    Relist(registrations_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
  }

  static const std::string* OpenOwner(const Command* c) {
    return c != nullptr && !IsClosed(c->state) ? &c->agent_id : nullptr;
  }

  void Relink(const Command* before, const Command* after, Row row) {
    Relist(commands_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
    Relist(open_commands_by_agent, OpenOwner(before), OpenOwner(after), row);
  }

  static const std::string* LiveOwner(const Replica* r) {
    return r != nullptr && IsLive(r->state) ? &r->agent_id : nullptr;
  }

  void Relink(const Replica* before, const Replica* after, Row row) {
    Relist(replicas_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
    const std::string* was_live = LiveOwner(before);
    const std::string* now_live = LiveOwner(after);
    if (was_live != nullptr && now_live != nullptr && *was_live == *now_live) return;
    if (was_live != nullptr) live_replica_by_agent.erase(*was_live);
    if (now_live != nullptr) live_replica_by_agent[*now_live] = row;
  }

  absl::flat_hash_set<Row>* OpenSet(const Incident* i) {
    return i != nullptr && !i->closed_at.has_value() ? &open_incidents : nullptr;
  }

  void Relink(const Incident* before, const Incident* after, Row row) {
    Relist(incidents_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
    MoveInSets(OpenSet(before), OpenSet(after), row);
  }

  void Relink(const AgentEvent* before, const AgentEvent* after, Row row) {
    Relist(events_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
  }

  // Observations are never updated: only inserted, or removed by a rollback.
  void Relink(const PriceObservation* before, const PriceObservation* after, Row row) {
    for (const PriceObservation* o : {before, after}) {
      if (o == nullptr) continue;
      const std::string series = PriceSeries(o->tenant_id, o->region, o->instance_type);
      if (o == after) {
        AddRow(prices_by_tenant, o->tenant_id, row);
        AddRow(prices_by_series, series, row);
      } else {
        RemoveRow(prices_by_tenant, o->tenant_id, row);
        RemoveRow(prices_by_series, series, row);
      }
    }
  }

  void Relink(const SwitchRecord* before, const SwitchRecord* after, Row row) {
    Relist(switches_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
  }

  void Relink(const CleanupLog* before, const CleanupLog* after, Row row) {
    Relist(cleanup_logs_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
  }
};

namespace {

bool TenantLess(const Tenant& a, const Tenant& b) { return a.id < b.id; }
bool TokenLess(const ApiToken& a, const ApiToken& b) {
  return std::tie(a.created_at, a.prefix) < std::tie(b.created_at, b.prefix);
}
bool AgentLess(const Agent& a, const Agent& b) { return a.id < b.id; }
bool AliasLess(const AgentAlias& a, const AgentAlias& b) { return a.logical_id < b.logical_id; }
bool RegistrationLess(const Registration& a, const Registration& b) {
  return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
}
bool ReplicaLess(const Replica& a, const Replica& b) {
  return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
}
bool IncidentLess(const Incident& a, const Incident& b) {
  return std::tie(a.first_seen, a.id) < std::tie(b.first_seen, b.id);
}
bool EventLess(const AgentEvent& a, const AgentEvent& b) {
  return std::tie(a.at, a.id) < std::tie(b.at, b.id);
}
bool PriceBySeq(const PriceObservation& a, const PriceObservation& b) { return a.seq < b.seq; }
bool PriceByTime(const PriceObservation& a, const PriceObservation& b) {
  return std::tie(a.observed_at, a.seq) < std::tie(b.observed_at, b.seq);
}
bool SwitchLess(const SwitchRecord& a, const SwitchRecord& b) {
  return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
}
bool CleanupLess(const CleanupLog& a, const CleanupLog& b) {
  return std::tie(a.received_at, a.id) < std::tie(b.received_at, b.id);
}

class MemoryTransaction final : public Transaction {
 public:
  // The caller holds the lock for `mode`; the transaction releases it.
  MemoryTransaction(MemoryStore::State* state, TxMode mode) : state_(state), mode_(mode) {
    if (mode_ == TxMode::kWrite) {
      seq_at_begin_ = state_->next_seq;
      price_seq_at_begin_ = state_->next_price_seq;
    }
  }

  ~MemoryTransaction() override {
    if (!active_) return;
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) state_->Undo(*it);
    // The sequence rolls back too, as SQLite's does: both stores number the same
    // committed writes the same.
    if (mode_ == TxMode::kWrite) {
      state_->next_seq = seq_at_begin_;
      state_->next_price_seq = price_seq_at_begin_;
    }
    Release();
  }

  MemoryTransaction(const MemoryTransaction&) = delete;
  MemoryTransaction& operator=(const MemoryTransaction&) = delete;

  absl::Status Commit() override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    undo_.clear();
    Release();
    return absl::OkStatus();
  }

  absl::StatusOr<Tenant> GetTenant(std::string_view id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<Tenant>(id);
  }
  absl::Status InsertTenant(const Tenant& t) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(t, undo_);
  }
  absl::Status UpdateTenant(const Tenant& t) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(t, undo_);
  }
  absl::StatusOr<std::vector<Tenant>> ListTenants() override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    std::vector<Row> all(state_->rows<Tenant>().size());
    for (Row i = 0; i < all.size(); ++i) all[i] = i;
    return state_->Collect<Tenant>(std::move(all), TenantLess);
  }

  absl::StatusOr<ApiToken> GetToken(std::string_view prefix) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<ApiToken>(prefix);
  }
  absl::Status InsertToken(const ApiToken& t) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(t, undo_);
  }
  absl::Status UpdateToken(const ApiToken& t) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(t, undo_);
  }
  absl::StatusOr<std::vector<ApiToken>> ListTokens(std::string_view tenant_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<ApiToken>(state_->tokens_by_tenant, tenant_id, TokenLess);
  }

  absl::StatusOr<Agent> GetAgent(std::string_view id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<Agent>(id);
  }
  absl::StatusOr<Agent> FindAgent(std::string_view tenant_id,
                                  std::string_view logical_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    std::optional<Row> row = state_->agent_by_logical.Find(KeyPair(tenant_id, logical_id));
    if (!row) {
      return absl::NotFoundError(fmt::format("agent {}/{} not found", tenant_id, logical_id));
    }
    return state_->rows<Agent>()[*row];
  }
  absl::Status InsertAgent(const Agent& a) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(a, undo_);
  }
  absl::Status UpdateAgent(const Agent& a) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(a, undo_);
  }
  absl::StatusOr<std::vector<Agent>> ListAgents(std::string_view tenant_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<Agent>(state_->agents_by_tenant, tenant_id, AgentLess);
  }
  absl::StatusOr<std::vector<Agent>> ListAgentsByReplicaMode(ReplicaMode mode) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    const absl::flat_hash_set<Row>& set = state_->active_agents_by_mode[static_cast<int>(mode)];
    return state_->Collect<Agent>(std::vector<Row>(set.begin(), set.end()), AgentLess);
  }

  absl::StatusOr<AgentAlias> FindAlias(std::string_view tenant_id,
                                       std::string_view logical_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<AgentAlias>(KeyPair(tenant_id, logical_id));
  }
  absl::Status InsertAlias(const AgentAlias& a) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(a, undo_);
  }
  absl::StatusOr<std::vector<AgentAlias>> ListAliases(std::string_view tenant_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<AgentAlias>(state_->aliases_by_tenant, tenant_id, AliasLess);
  }

  absl::StatusOr<Registration> GetRegistration(std::string_view id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<Registration>(id);
  }
  absl::StatusOr<Registration> FindRegistration(std::string_view agent_id,
                                                std::string_view instance_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    std::optional<Row> row = state_->registration_by_instance.Find(KeyPair(agent_id, instance_id));
    if (!row) {
      return absl::NotFoundError(
          fmt::format("registration {}/{} not found", agent_id, instance_id));
    }
    return state_->rows<Registration>()[*row];
  }
  absl::Status InsertRegistration(const Registration& r) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(r, undo_);
  }
  absl::Status UpdateRegistration(const Registration& r) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(r, undo_);
  }
  absl::StatusOr<std::vector<Registration>> ListRegistrations(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<Registration>(state_->registrations_by_agent, agent_id,
                                             RegistrationLess);
  }

  absl::StatusOr<Command> GetCommand(std::string_view id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<Command>(id);
  }
  absl::StatusOr<int64_t> InsertCommand(const Command& c) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    Command record = c;
    record.seq = state_->next_seq;
    if (absl::Status s = state_->Insert(std::move(record), undo_); !s.ok()) return s;
    return state_->next_seq++;
  }
  absl::Status UpdateCommand(const Command& c) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(c, undo_);
  }
  absl::StatusOr<std::vector<Command>> ListOpenCommands(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<Command>(state_->open_commands_by_agent, agent_id, ByDelivery);
  }
  absl::StatusOr<std::vector<Command>> ListCommands(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<Command>(state_->commands_by_agent, agent_id, ByDelivery);
  }
  absl::StatusOr<std::vector<Command>> ListDueCommands(Time now) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    const Rows<Command>& commands = state_->rows<Command>();
    std::vector<Row> due;
    for (const auto& [agent_id, open] : state_->open_commands_by_agent) {
      for (Row row : open) {
        const Command& c = commands[row];
        bool is_due = c.state == CommandState::kPending
                          ? c.expires_at <= now
                          : c.lease_expires_at.has_value() && *c.lease_expires_at <= now;
        if (is_due) due.push_back(row);
      }
    }
    return state_->Collect<Command>(std::move(due), ByDelivery);
  }

  absl::StatusOr<Replica> GetReplica(std::string_view id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<Replica>(id);
  }
  absl::Status InsertReplica(const Replica& r) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(r, undo_);
  }
  absl::Status UpdateReplica(const Replica& r) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(r, undo_);
  }
  absl::StatusOr<std::vector<Replica>> ListReplicas(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<Replica>(state_->replicas_by_agent, agent_id, ReplicaLess);
  }
  absl::StatusOr<std::vector<Replica>> ListLiveReplicas() override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    std::vector<Row> live;
    live.reserve(state_->live_replica_by_agent.size());
    for (const auto& [agent_id, row] : state_->live_replica_by_agent) live.push_back(row);
    return state_->Collect<Replica>(std::move(live), ReplicaLess);
  }

  absl::StatusOr<Incident> GetIncident(std::string_view id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<Incident>(id);
  }
  absl::Status InsertIncident(const Incident& i) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(i, undo_);
  }
  absl::Status UpdateIncident(const Incident& i) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(i, undo_);
  }
  absl::StatusOr<std::vector<Incident>> ListIncidents(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<Incident>(state_->incidents_by_agent, agent_id, IncidentLess);
  }
  absl::StatusOr<std::vector<Incident>> ListOpenIncidents() override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    const absl::flat_hash_set<Row>& open = state_->open_incidents;
    return state_->Collect<Incident>(std::vector<Row>(open.begin(), open.end()), IncidentLess);
  }

  absl::Status InsertEvent(const AgentEvent& e) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(e, undo_);
  }
  absl::StatusOr<std::vector<AgentEvent>> ListEvents(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<AgentEvent>(state_->events_by_agent, agent_id, EventLess);
  }

  absl::StatusOr<int64_t> InsertPriceObservation(const PriceObservation& o) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    PriceObservation record = o;
    record.seq = state_->next_price_seq;
    if (absl::Status s = state_->Insert(std::move(record), undo_); !s.ok()) return s;
    return state_->next_price_seq++;
  }
  absl::StatusOr<std::vector<PriceObservation>> ListPriceObservations(std::string_view tenant_id,
                                                                      const Pool& pool, Time from,
                                                                      Time to) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    auto it =
        state_->prices_by_series.find(PriceSeries(tenant_id, pool.region, pool.instance_type));
    if (it == state_->prices_by_series.end()) return std::vector<PriceObservation>();
    const Rows<PriceObservation>& all = state_->rows<PriceObservation>();
    std::vector<Row> selected;
    for (Row row : it->second) {
      const PriceObservation& o = all[row];
      if (o.az == pool.az && o.observed_at >= from && o.observed_at < to) selected.push_back(row);
    }
    return state_->Collect<PriceObservation>(std::move(selected), PriceByTime);
  }
  absl::StatusOr<std::vector<PriceObservation>> ListLatestPrices(
      std::string_view tenant_id, std::string_view region,
      std::string_view instance_type) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    auto it = state_->prices_by_series.find(PriceSeries(tenant_id, region, instance_type));
    if (it == state_->prices_by_series.end()) return std::vector<PriceObservation>();
    const Rows<PriceObservation>& all = state_->rows<PriceObservation>();
    absl::flat_hash_map<std::pair<absl::string_view, PriceKind>, Row> newest;
    for (Row row : it->second) {
      const PriceObservation& o = all[row];
      auto [slot, inserted] = newest.try_emplace(std::make_pair(AbslView(o.az), o.kind), row);
      if (!inserted && PriceByTime(all[slot->second], o)) slot->second = row;
    }
    std::vector<Row> selected;
    selected.reserve(newest.size());
    for (const auto& [key, row] : newest) selected.push_back(row);
    return state_->Collect<PriceObservation>(
        std::move(selected), [](const PriceObservation& a, const PriceObservation& b) {
          return std::make_pair(std::string_view(a.az), ToString(a.kind)) <
                 std::make_pair(std::string_view(b.az), ToString(b.kind));
        });
  }
  absl::StatusOr<std::vector<PriceObservation>> ListTenantPriceObservations(
      std::string_view tenant_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<PriceObservation>(state_->prices_by_tenant, tenant_id, PriceBySeq);
  }

  absl::StatusOr<SwitchRecord> GetSwitch(std::string_view id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->Get<SwitchRecord>(id);
  }
  absl::Status InsertSwitch(const SwitchRecord& r) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(r, undo_);
  }
  absl::Status UpdateSwitch(const SwitchRecord& r) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Update(r, undo_);
  }
  absl::StatusOr<std::vector<SwitchRecord>> ListSwitches(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<SwitchRecord>(state_->switches_by_agent, agent_id, SwitchLess);
  }

  absl::Status InsertCleanupLog(const CleanupLog& l) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    return state_->Insert(l, undo_);
  }
  absl::StatusOr<std::vector<CleanupLog>> ListCleanupLogs(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<CleanupLog>(state_->cleanup_logs_by_agent, agent_id, CleanupLess);
  }

 private:
  absl::Status Usable() const {
    if (!active_) return absl::FailedPreconditionError("transaction is already finished");
    return absl::OkStatus();
  }
  absl::Status Writable() const {
    if (absl::Status s = Usable(); !s.ok()) return s;
    if (mode_ != TxMode::kWrite) {
      return absl::FailedPreconditionError("write in a read-only transaction");
    }
    return absl::OkStatus();
  }
  void Release() {
    active_ = false;
    if (mode_ == TxMode::kWrite) {
      state_->mu.unlock();
    } else {
      state_->mu.unlock_shared();
    }
  }

  MemoryStore::State* state_;
  TxMode mode_;
  bool active_ = true;
  int64_t seq_at_begin_ = 0;
  int64_t price_seq_at_begin_ = 0;
  std::vector<UndoEntry> undo_;
};

}  // namespace

MemoryStore::MemoryStore() : state_(std::make_unique<State>()) {}
MemoryStore::~MemoryStore() = default;

absl::StatusOr<std::unique_ptr<Transaction>> MemoryStore::Begin(TxMode mode) {
  if (mode == TxMode::kWrite) {
    state_->mu.lock();
  } else {
    state_->mu.lock_shared();
  }
  return std::make_unique<MemoryTransaction>(state_.get(), mode);
}

}  // namespace spotopt
