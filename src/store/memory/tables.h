// MemoryStore's tables. Every record is kept by value in an append-only row array
// per record type (chunked: rows never move, so indexes refer to them by row number).
// These records are never deleted through the interface; only the rollback of an
// insert removes a row, and as writers are serialized and undo runs in reverse, that
// row is always the last one. An R's rows are Stored<R> (compact.h).
//
// Indexes: the primary key and the unique secondary keys are hash sets of row numbers
// that hash the key stored in the row itself (a few bytes per record instead of a copy
// of the key); per-tenant and per-agent lists map the owner id to row numbers.
#ifndef SPOTOPT_STORE_MEMORY_TABLES_H_
#define SPOTOPT_STORE_MEMORY_TABLES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "fmt/format.h"
#include "spotopt/domain/agent.h"
#include "spotopt/domain/command.h"
#include "spotopt/domain/incident.h"
#include "spotopt/domain/replica.h"
#include "spotopt/domain/report.h"
#include "spotopt/domain/run_segment.h"
#include "spotopt/domain/tenant.h"
#include "store/memory/compact.h"
#include "store/memory/intern.h"
#include "store/memory/packed_id.h"

namespace spotopt::memory {

using Row = uint32_t;
using KeyPair = std::pair<std::string_view, std::string_view>;

// Primary keys, read from stored rows.
struct TenantKey {
  std::string_view operator()(const Tenant& t) const { return t.id; }
};
struct TokenKey {
  std::string_view operator()(const ApiToken& t) const { return t.prefix; }
};
struct AgentKey {
  PackedId operator()(const CompactAgent& a) const { return a.id; }
};
struct AliasKey {
  KeyPair operator()(const AgentAlias& a) const { return {a.tenant_id, a.logical_id}; }
};
struct RegistrationKey {
  PackedId operator()(const CompactRegistration& r) const { return r.id; }
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
struct SwitchKey {
  std::string_view operator()(const SwitchRecord& s) const { return s.id; }
};
struct CleanupKey {
  std::string_view operator()(const CleanupLog& l) const { return l.id; }
};
struct RunSegmentKey {
  PackedId operator()(const CompactRunSegment& s) const { return s.id; }
};
// Unique secondary keys.
using Logical = std::pair<Symbol, std::string_view>;  // (tenant, logical id)
struct LogicalKey {
  Logical operator()(const CompactAgent& a) const { return {a.tenant_id, a.logical_id}; }
};
using Instance = std::pair<PackedId, Symbol>;  // (agent, instance)
struct InstanceKey {
  Instance operator()(const CompactRegistration& r) const { return {r.agent_id, r.instance_id}; }
};
// Only open segments are in this index: at most one per (agent, instance, role).
struct OpenSegment {
  PackedId agent_id;
  Symbol instance_id;
  RunRole role;
  friend bool operator==(const OpenSegment&, const OpenSegment&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const OpenSegment& k) {
    return H::combine(std::move(h), k.agent_id, k.instance_id, k.role);
  }
};
struct OpenSegmentKey {
  OpenSegment operator()(const CompactRunSegment& s) const {
    return {s.agent_id, s.instance_id, s.role};
  }
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
struct Traits<SwitchRecord> {
  using Key = SwitchKey;
  static constexpr std::string_view kName = "switch";
};
template <>
struct Traits<CleanupLog> {
  using Key = CleanupKey;
  static constexpr std::string_view kName = "cleanup log";
};
template <>
struct Traits<RunSegment> {
  using Key = RunSegmentKey;
  static constexpr std::string_view kName = "run segment";
};

inline std::string KeyText(std::string_view key) { return std::string(key); }
inline std::string KeyText(const KeyPair& key) {
  return fmt::format("{}/{}", key.first, key.second);
}

// This Abseil build has its own string_view type, so std::string_view keys are hashed
// through it.
inline absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline size_t HashKey(std::string_view key) {
  return absl::Hash<absl::string_view>()(AbslView(key));
}
inline size_t HashKey(const KeyPair& key) {
  return absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
      {AbslView(key.first), AbslView(key.second)});
}
inline size_t HashKey(const Logical& key) {
  return absl::Hash<std::pair<Symbol, absl::string_view>>()({key.first, AbslView(key.second)});
}
// Keys of symbols and packed ids hash as they are.
template <typename Key>
size_t HashKey(const Key& key) {
  return absl::Hash<Key>()(key);
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
// while growing, and a row's address never changes (a chunk is reserved whole and never
// grows past it). A record is constructed only when pushed: a chunk of the larger
// records is 100-190 KB, and a new store (a test's, a fuzz input's, a small tenant's)
// should not construct and zero them all.
template <typename R>
class Rows {
 public:
  size_t size() const { return size_; }
  R& operator[](size_t row) { return chunks_[row / kChunk][row % kChunk]; }
  const R& operator[](size_t row) const { return chunks_[row / kChunk][row % kChunk]; }

  void push_back(R record) {
    if (size_ == chunks_.size() * kChunk) chunks_.emplace_back().reserve(kChunk);
    chunks_[size_ / kChunk].push_back(std::move(record));
    ++size_;
  }
  void pop_back() {
    --size_;
    chunks_[size_ / kChunk].pop_back();
  }

 private:
  static constexpr size_t kChunk = 256;
  std::vector<std::vector<R>> chunks_;
  size_t size_ = 0;
};

// A set of rows found by a key read from the rows themselves.
template <typename R, typename KeyOf>
class RowIndex {
 public:
  using Key = std::decay_t<decltype(KeyOf()(std::declval<const Stored<R>&>()))>;

  explicit RowIndex(const Rows<Stored<R>>* rows) : set_(0, Hash{rows}, Eq{rows}) {}
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
    const Rows<Stored<R>>* rows;
    size_t operator()(Row row) const { return (*this)(KeyOf()((*rows)[row])); }
    size_t operator()(const Key& key) const { return HashKey(key); }
  };
  struct Eq {
    using is_transparent = void;
    const Rows<Stored<R>>* rows;
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

  Rows<Stored<R>> rows;
  RowIndex<R, typename Traits<R>::Key> by_key{&rows};
};

// Owner id -> rows it owns, in insertion order (lists sort on the way out). A list is
// found by the hash of its owner's id rather than a copy of the id (two copies of
// every agent id fewer); owners whose hashes collide, if ever, share a list, which
// Of() filters by the owner read from the rows. Most owners have a few rows (an
// agent's registrations and run segments): they stay inline, not in an allocation.
template <typename R, typename OwnerOf>
class RowLists {
 public:
  using Owner = std::decay_t<decltype(OwnerOf()(std::declval<const Stored<R>&>()))>;

  explicit RowLists(const Rows<Stored<R>>* rows) : rows_(rows) {}
  RowLists(const RowLists&) = delete;
  RowLists& operator=(const RowLists&) = delete;

  std::vector<Row> Of(const Owner& owner) const {
    std::vector<Row> out;
    auto it = lists_.find(HashKey(owner));
    if (it == lists_.end()) return out;
    for (Row row : it->second) {
      if (OwnerOf()((*rows_)[row]) == owner) out.push_back(row);
    }
    return out;
  }

  template <typename F>
  void ForEachRow(F f) const {
    for (const auto& [hash, rows] : lists_) {
      for (Row row : rows) f(row);
    }
  }

  // Moves `row` from the list of the owner of `before` to the list of the owner of
  // `after`; null means "not listed".
  void Relist(const Stored<R>* before, const Stored<R>* after, Row row) {
    std::optional<Owner> from, to;
    if (before != nullptr) from = OwnerOf()(*before);
    if (after != nullptr) to = OwnerOf()(*after);
    if (from && to && *from == *to) return;
    if (from) Remove(*from, row);
    if (to) lists_[HashKey(*to)].push_back(row);
  }

 private:
  void Remove(const Owner& owner, Row row) {
    auto it = lists_.find(HashKey(owner));
    absl::InlinedVector<Row, 4>& rows = it->second;
    // Rows leave mostly from the back (rollbacks), so search from there.
    rows.erase(std::find(rows.rbegin(), rows.rend(), row).base() - 1);
    if (rows.empty()) lists_.erase(it);
  }

  const Rows<Stored<R>>* rows_;
  absl::flat_hash_map<size_t, absl::InlinedVector<Row, 4>> lists_;
};

// An owner as lists key it: a view of a string, or a symbol or packed id as it is.
inline std::string_view AsOwner(const std::string& id) { return id; }
template <typename Id>
Id AsOwner(const Id& id) {
  return id;
}
struct AgentOf {
  template <typename S>
  auto operator()(const S& r) const {
    return AsOwner(r.agent_id);
  }
};
struct TenantOf {
  template <typename S>
  auto operator()(const S& r) const {
    return AsOwner(r.tenant_id);
  }
};

inline void MoveInSets(absl::flat_hash_set<Row>* from, absl::flat_hash_set<Row>* to, Row row) {
  if (from == to) return;
  if (from != nullptr) from->erase(row);
  if (to != nullptr) to->insert(row);
}

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_TABLES_H_
