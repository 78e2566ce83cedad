// MemoryStore keeps every record by value in an append-only row array per record type
// (chunked: rows never move, so indexes refer to them by row number). These records are
// never deleted through the interface; only the rollback of an insert removes a row, and
// as writers are serialized and undo runs in reverse, that row is always the last one.
//
// Indexes: the primary key and the unique secondary keys are hash sets of row numbers
// that hash the key stored in the row itself (a few bytes per record instead of a copy
// of the key); per-tenant and per-agent lists map the owner id to row numbers.
//
// Price observations, by far the most numerous records, are kept apart and compact
// (PriceStore below): 40-byte rows with their strings interned, in one time-ordered
// list per series, so a pool's range is a binary search.
#include "spotopt/store/memory_store.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <limits>
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
struct SwitchKey {
  std::string_view operator()(const SwitchRecord& s) const { return s.id; }
};
struct CleanupKey {
  std::string_view operator()(const CleanupLog& l) const { return l.id; }
};
struct RunSegmentKey {
  std::string_view operator()(const RunSegment& s) const { return s.id; }
};
// Unique secondary keys.
struct LogicalKey {
  KeyPair operator()(const Agent& a) const { return {a.tenant_id, a.logical_id}; }
};
struct InstanceKey {
  KeyPair operator()(const Registration& r) const { return {r.agent_id, r.instance_id}; }
};
// Only open segments are in this index: at most one per (agent, instance, role).
struct OpenSegment {
  std::string_view agent_id;
  std::string_view instance_id;
  RunRole role;
  friend bool operator==(const OpenSegment&, const OpenSegment&) = default;
};
struct OpenSegmentKey {
  OpenSegment operator()(const RunSegment& s) const { return {s.agent_id, s.instance_id, s.role}; }
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

std::string KeyText(std::string_view key) { return std::string(key); }
std::string KeyText(const KeyPair& key) { return fmt::format("{}/{}", key.first, key.second); }

// This Abseil build has its own string_view type, so std::string_view keys are hashed
// through it.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }
size_t HashKey(std::string_view key) { return absl::Hash<absl::string_view>()(AbslView(key)); }
size_t HashKey(const KeyPair& key) {
  return absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
      {AbslView(key.first), AbslView(key.second)});
}
size_t HashKey(const OpenSegment& key) {
  return absl::Hash<std::tuple<absl::string_view, absl::string_view, RunRole>>()(
      {AbslView(key.agent_id), AbslView(key.instance_id), key.role});
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

// ---- Price observations -------------------------------------------------------------

// One stored observation. The series it sits in holds its tenant, region, instance
// type, AZ and kind; `reporter` names its (agent, registration) pair.
struct PriceRow {
  int64_t seq;
  int64_t observed_us;
  int64_t received_us;
  int64_t price_micros;
  uint32_t reporter;
  uint8_t flags;  // kServerReceived | source << kSourceShift
};
static_assert(sizeof(PriceRow) == 40, "keep price rows compact: stores hold millions");
constexpr uint8_t kServerReceived = 1;
constexpr int kSourceShift = 1;

bool ByTime(const PriceRow& a, const PriceRow& b) {
  return std::tie(a.observed_us, a.seq) < std::tie(b.observed_us, b.seq);
}

// A series' rows ordered by (observed_at, seq), in chunks of 256 rows: growing never
// copies the whole series (no reallocation peak), and a small series only takes what
// its first, doubling chunk needs.
class PriceRows {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  PriceRow& operator[](size_t i) { return chunks_[i / kChunk][i % kChunk]; }
  const PriceRow& operator[](size_t i) const { return chunks_[i / kChunk][i % kChunk]; }
  const PriceRow& back() const { return (*this)[size_ - 1]; }

  // Appends when `row` is the newest (the usual case), else shifts the newer ones.
  void Insert(const PriceRow& row) {
    size_t at = size_;
    if (!empty() && ByTime(row, back())) at = UpperBound(row);
    PushBack(row);
    for (size_t i = size_ - 1; i > at; --i) (*this)[i] = (*this)[i - 1];
    (*this)[at] = row;
  }

  // Puts back rows sorted by (observed_at, seq) in one pass from the newest end, as
  // the merge step of a merge sort does.
  void Merge(const std::vector<PriceRow>& rows) {
    size_t kept = size_;
    for (const PriceRow& row : rows) PushBack(row);
    size_t to = size_;
    for (size_t from = rows.size(); from > 0;) {
      if (kept > 0 && ByTime(rows[from - 1], (*this)[kept - 1])) {
        (*this)[--to] = (*this)[--kept];
      } else {
        (*this)[--to] = rows[--from];
      }
    }
  }

  // The first position whose observed time is >= `micros`.
  size_t LowerBound(int64_t micros) const {
    return PartitionPoint([&](const PriceRow& r) { return r.observed_us < micros; });
  }

  // Removes the `count` rows matching `pred`, handing each to `removed`. The rows
  // are searched from the newest back, so removing recent rows (a rollback) costs
  // only what follows them.
  template <typename Pred, typename Removed>
  void EraseIf(size_t count, Pred pred, Removed removed) {
    size_t first = size_;
    for (size_t i = size_, found = 0; i > 0 && found < count; --i) {
      if (pred((*this)[i - 1])) {
        first = i - 1;
        ++found;
      }
    }
    size_t kept = first;
    for (size_t i = first; i < size_; ++i) {
      if (pred((*this)[i])) {
        removed((*this)[i]);
      } else {
        (*this)[kept++] = (*this)[i];
      }
    }
    Truncate(kept);
  }

 private:
  static constexpr size_t kChunk = 256;

  size_t UpperBound(const PriceRow& row) const {
    return PartitionPoint([&](const PriceRow& r) { return !ByTime(row, r); });
  }

  template <typename Pred>
  size_t PartitionPoint(Pred pred) const {
    size_t lo = 0;
    size_t hi = size_;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (pred((*this)[mid])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  void PushBack(const PriceRow& row) {
    if (size_ == chunks_.size() * kChunk) {
      chunks_.emplace_back().reserve(chunks_.size() == 1 ? 4 : kChunk);
    }
    std::vector<PriceRow>& last = chunks_.back();
    if (last.size() == last.capacity()) last.reserve(std::min(2 * last.capacity(), kChunk));
    last.push_back(row);
    ++size_;
  }

  void Truncate(size_t n) {
    size_ = n;
    const size_t chunks = (n + kChunk - 1) / kChunk;
    chunks_.resize(chunks);
    if (chunks > 0) chunks_.back().resize(n - (chunks - 1) * kChunk);
  }

  std::vector<std::vector<PriceRow>> chunks_;
  size_t size_ = 0;
};

// Each distinct string once, named by a 32-bit id. Strings stay when the last row
// using them goes (a rolled-back or deleted observation): they are few and small.
class Interner {
 public:
  uint32_t Intern(std::string_view s) {
    if (auto it = ids_.find(s); it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(texts_.size());
    // A deque never moves its strings, so the map's views stay valid.
    ids_.emplace(texts_.emplace_back(s), id);
    return id;
  }
  std::optional<uint32_t> Find(std::string_view s) const {
    auto it = ids_.find(s);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  const std::string& operator[](uint32_t id) const { return texts_[id]; }

 private:
  std::deque<std::string> texts_;
  absl::flat_hash_map<std::string_view, uint32_t, StringHash, StringEq> ids_;
};

struct SeriesKey {
  uint32_t tenant;
  uint32_t region;
  uint32_t instance_type;
  uint32_t az;
  PriceKind kind;
  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const SeriesKey& k) {
    return H::combine(std::move(h), k.tenant, k.region, k.instance_type, k.az, k.kind);
  }
};

// (tenant, region, instance type): the series ListLatestPrices looks at.
struct GroupKey {
  uint32_t tenant;
  uint32_t region;
  uint32_t instance_type;
  friend bool operator==(const GroupKey&, const GroupKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const GroupKey& k) {
    return H::combine(std::move(h), k.tenant, k.region, k.instance_type);
  }
};

struct Series {
  SeriesKey key;
  PriceRows rows;
};

// Which series holds each live seq, so a deletion by seq finds its rows: 4 bytes a
// number, in blocks freed once every number in them is gone.
class SeqIndex {
 public:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  uint32_t Get(int64_t seq) const {
    if (seq < 1) return kNone;
    const auto i = static_cast<uint64_t>(seq - 1);
    if (i / kBlock >= blocks_.size() || blocks_[i / kBlock] == nullptr) return kNone;
    return blocks_[i / kBlock]->series[i % kBlock];
  }
  void Set(int64_t seq, uint32_t series) {
    const auto i = static_cast<uint64_t>(seq - 1);
    if (i / kBlock >= blocks_.size()) blocks_.resize(i / kBlock + 1);
    std::unique_ptr<Block>& block = blocks_[i / kBlock];
    if (block == nullptr) {
      block = std::make_unique<Block>();
      block->series.fill(kNone);
    }
    uint32_t& slot = block->series[i % kBlock];
    if (slot == kNone) ++block->live;
    slot = series;
  }
  void Clear(int64_t seq) {
    if (Get(seq) == kNone) return;
    const auto i = static_cast<uint64_t>(seq - 1);
    std::unique_ptr<Block>& block = blocks_[i / kBlock];
    block->series[i % kBlock] = kNone;
    if (--block->live == 0) block.reset();
  }

 private:
  static constexpr size_t kBlock = 4096;
  struct Block {
    std::array<uint32_t, kBlock> series;
    uint32_t live = 0;
  };
  std::vector<std::unique_ptr<Block>> blocks_;
};

// What DeletePriceObservations removed, kept to put back on rollback: each series'
// rows in time order.
struct PriceDeletion {
  std::vector<std::pair<uint32_t, std::vector<PriceRow>>> series;
};

// Every price observation of a store. Inserted rows need no undo record: a write
// transaction's inserts are exactly the seqs it handed out, so a rollback removes
// the rows from its first seq on.
class PriceStore {
 public:
  void Insert(const PriceObservation& o, int64_t seq) {
    const SeriesKey key{strings_.Intern(o.tenant_id), strings_.Intern(o.region),
                        strings_.Intern(o.instance_type), strings_.Intern(o.az), o.kind};
    const uint32_t series = SeriesOf(key);
    const PriceRow row{seq,
                       ToMicros(o.observed_at),
                       ToMicros(o.received_at),
                       o.price.micros(),
                       Reporter(o.agent_id, o.registration_id),
                       static_cast<uint8_t>((o.server_received ? kServerReceived : 0) |
                                            static_cast<int>(o.source) << kSourceShift)};
    series_[series].rows.Insert(row);
    seqs_.Set(seq, series);
  }

  // Removes the rows with these seqs, recording them in *undo.
  void Delete(const std::vector<int64_t>& seqs, PriceDeletion* undo) {
    std::vector<std::pair<uint32_t, int64_t>> found;  // (series, seq)
    for (int64_t seq : seqs) {
      if (uint32_t series = seqs_.Get(seq); series != SeqIndex::kNone) {
        found.emplace_back(series, seq);
      }
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    for (auto begin = found.begin(); begin != found.end();) {
      const uint32_t series = begin->first;
      auto end = std::find_if(begin, found.end(), [&](const auto& f) { return f.first != series; });
      std::vector<PriceRow>& removed =
          undo->series.emplace_back(series, std::vector<PriceRow>()).second;
      series_[series].rows.EraseIf(
          static_cast<size_t>(end - begin),
          [&](const PriceRow& r) {
            return std::binary_search(begin, end, std::make_pair(series, r.seq));
          },
          [&](const PriceRow& r) { removed.push_back(r); });
      for (auto it = begin; it != end; ++it) seqs_.Clear(it->second);
      begin = end;
    }
  }

  void Restore(const PriceDeletion& deletion) {
    for (const auto& [series, rows] : deletion.series) {
      series_[series].rows.Merge(rows);
      for (const PriceRow& row : rows) seqs_.Set(row.seq, series);
    }
  }

  // Removes the rows numbered [first, end): the inserts of a rolled-back transaction.
  void RemoveInserted(int64_t first, int64_t end) {
    absl::flat_hash_map<uint32_t, size_t> per_series;
    for (int64_t seq = first; seq < end; ++seq) {
      if (uint32_t series = seqs_.Get(seq); series != SeqIndex::kNone) {
        ++per_series[series];
        seqs_.Clear(seq);
      }
    }
    for (const auto& [series, count] : per_series) {
      series_[series].rows.EraseIf(
          count, [&](const PriceRow& r) { return r.seq >= first; }, [](const PriceRow&) {});
    }
  }

  std::vector<PriceObservation> Range(std::string_view tenant_id, const Pool& pool, Time from,
                                      Time to) const {
    std::vector<PriceObservation> out;
    std::optional<GroupKey> group = FindGroup(tenant_id, pool.region, pool.instance_type);
    std::optional<uint32_t> az = strings_.Find(pool.az);
    if (!group || !az) return out;
    // An AZ's rows are in one series per kind (in practice one kind per AZ): each range
    // is in order already, two are merged.
    std::vector<std::pair<const Series*, size_t>> picked;  // (series, row)
    size_t first_series_end = 0;
    for (PriceKind kind : {PriceKind::kSpot, PriceKind::kOnDemand}) {
      first_series_end = picked.size();
      auto it = series_by_key_.find(
          SeriesKey{group->tenant, group->region, group->instance_type, *az, kind});
      if (it == series_by_key_.end()) continue;
      const Series& s = series_[it->second];
      const size_t end = s.rows.LowerBound(ToMicros(to));
      for (size_t i = s.rows.LowerBound(ToMicros(from)); i < end; ++i) picked.emplace_back(&s, i);
    }
    std::inplace_merge(picked.begin(), picked.begin() + static_cast<ptrdiff_t>(first_series_end),
                       picked.end(), [](const auto& a, const auto& b) {
                         return ByTime(a.first->rows[a.second], b.first->rows[b.second]);
                       });
    out.reserve(picked.size());
    for (const auto& [s, i] : picked) out.push_back(Materialize(*s, s->rows[i]));
    return out;
  }

  std::vector<PriceObservation> Latest(std::string_view tenant_id, std::string_view region,
                                       std::string_view instance_type) const {
    std::vector<PriceObservation> out;
    std::optional<GroupKey> group = FindGroup(tenant_id, region, instance_type);
    if (!group) return out;
    auto it = series_by_group_.find(*group);
    if (it == series_by_group_.end()) return out;
    for (uint32_t id : it->second) {
      const Series& s = series_[id];
      if (!s.rows.empty()) out.push_back(Materialize(s, s.rows.back()));
    }
    std::sort(out.begin(), out.end(), [](const PriceObservation& a, const PriceObservation& b) {
      return std::make_pair(std::string_view(a.az), ToString(a.kind)) <
             std::make_pair(std::string_view(b.az), ToString(b.kind));
    });
    return out;
  }

  std::vector<PriceObservation> OfTenant(std::string_view tenant_id) const {
    std::vector<std::pair<const Series*, size_t>> picked;
    for (uint32_t id : TenantSeries(tenant_id)) {
      const Series& s = series_[id];
      for (size_t i = 0; i < s.rows.size(); ++i) picked.emplace_back(&s, i);
    }
    std::sort(picked.begin(), picked.end(), [](const auto& a, const auto& b) {
      return a.first->rows[a.second].seq < b.first->rows[b.second].seq;
    });
    std::vector<PriceObservation> out;
    out.reserve(picked.size());
    for (const auto& [s, i] : picked) out.push_back(Materialize(*s, s->rows[i]));
    return out;
  }

  std::vector<Pool> Pools(std::string_view tenant_id) const {
    std::vector<Pool> out;
    for (uint32_t id : TenantSeries(tenant_id)) {
      const Series& s = series_[id];
      if (s.rows.empty()) continue;
      out.push_back(
          Pool{strings_[s.key.region], strings_[s.key.az], strings_[s.key.instance_type]});
    }
    auto order = [](const Pool& p) { return std::tie(p.region, p.instance_type, p.az); };
    std::sort(out.begin(), out.end(),
              [&](const Pool& a, const Pool& b) { return order(a) < order(b); });
    // A spot and an on-demand series of one AZ are one pool.
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

 private:
  uint32_t SeriesOf(const SeriesKey& key) {
    auto [it, inserted] = series_by_key_.try_emplace(key, static_cast<uint32_t>(series_.size()));
    if (inserted) {
      series_.push_back(Series{key, {}});
      series_by_tenant_[key.tenant].push_back(it->second);
      series_by_group_[GroupKey{key.tenant, key.region, key.instance_type}].push_back(it->second);
    }
    return it->second;
  }

  uint32_t Reporter(std::string_view agent_id, std::string_view registration_id) {
    const std::pair<uint32_t, uint32_t> ids{strings_.Intern(agent_id),
                                            strings_.Intern(registration_id)};
    auto [it, inserted] = reporter_ids_.try_emplace(ids, static_cast<uint32_t>(reporters_.size()));
    if (inserted) reporters_.push_back(ids);
    return it->second;
  }

  std::optional<GroupKey> FindGroup(std::string_view tenant_id, std::string_view region,
                                    std::string_view instance_type) const {
    std::optional<uint32_t> tenant = strings_.Find(tenant_id);
    std::optional<uint32_t> r = strings_.Find(region);
    std::optional<uint32_t> type = strings_.Find(instance_type);
    if (!tenant || !r || !type) return std::nullopt;
    return GroupKey{*tenant, *r, *type};
  }

  const std::vector<uint32_t>& TenantSeries(std::string_view tenant_id) const {
    static const std::vector<uint32_t> kNoSeries;
    std::optional<uint32_t> tenant = strings_.Find(tenant_id);
    if (!tenant) return kNoSeries;
    auto it = series_by_tenant_.find(*tenant);
    return it == series_by_tenant_.end() ? kNoSeries : it->second;
  }

  PriceObservation Materialize(const Series& s, const PriceRow& row) const {
    const auto& [agent, registration] = reporters_[row.reporter];
    PriceObservation o;
    o.seq = row.seq;
    o.tenant_id = strings_[s.key.tenant];
    o.agent_id = strings_[agent];
    o.registration_id = strings_[registration];
    o.region = strings_[s.key.region];
    o.az = strings_[s.key.az];
    o.instance_type = strings_[s.key.instance_type];
    o.kind = s.key.kind;
    o.price = Money::FromMicros(row.price_micros);
    o.observed_at = FromMicros(row.observed_us);
    o.received_at = FromMicros(row.received_us);
    o.server_received = (row.flags & kServerReceived) != 0;
    o.source = static_cast<PriceSource>(row.flags >> kSourceShift);
    return o;
  }

  Interner strings_;
  std::vector<std::pair<uint32_t, uint32_t>> reporters_;  // (agent, registration)
  absl::flat_hash_map<std::pair<uint32_t, uint32_t>, uint32_t> reporter_ids_;
  // Series are never removed; an emptied one is skipped when listing.
  std::vector<Series> series_;
  absl::flat_hash_map<SeriesKey, uint32_t> series_by_key_;
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> series_by_tenant_;
  absl::flat_hash_map<GroupKey, std::vector<uint32_t>> series_by_group_;
  SeqIndex seqs_;
};

// ---- Undo ------------------------------------------------------------------------------

template <typename... R>
using UndoOp = std::variant<Inserted<R>..., std::unique_ptr<R>..., std::unique_ptr<PriceDeletion>>;

struct UndoEntry {
  Row row;  // unused for a price deletion
  UndoOp<Tenant, ApiToken, Agent, AgentAlias, Registration, Command, Replica, Incident, AgentEvent,
         SwitchRecord, CleanupLog, RunSegment>
      op;
};

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
// Everything but ended_at.
bool SameIdentity(const RunSegment& a, const RunSegment& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.instance_id == b.instance_id &&
         a.role == b.role && a.placement == b.placement && a.started_at == b.started_at;
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
             Table<SwitchRecord>, Table<CleanupLog>, Table<RunSegment>>
      tables;
  PriceStore prices;

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
  RowLists switches_by_agent;
  RowLists cleanup_logs_by_agent;
  RowLists run_segments_by_agent;
  RowLists run_segments_by_tenant;
  RowIndex<RunSegment, OpenSegmentKey> open_segments{&rows<RunSegment>()};

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
          } else if constexpr (std::is_same_v<Op, std::unique_ptr<PriceDeletion>>) {
            prices.Restore(*op);
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

  absl::Status Check(const RunSegment& s, std::optional<Row> self) {
    if (s.ended_at.has_value()) return absl::OkStatus();
    std::optional<Row> other = open_segments.Find(OpenSegmentKey()(s));
    if (other && other != self) {
      return absl::FailedPreconditionError(
          fmt::format("agent {} already has open {} run segment {} for instance {}", s.agent_id,
                      ToString(s.role), rows<RunSegment>()[*other].id, s.instance_id));
    }
    return absl::OkStatus();
  }

  // Unique secondary keys hash the row's contents, so they are taken out before the row
  // changes and put back after.
  template <typename R>
  void IndexKeys(const R& record, Row row, bool add) {
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

  void Relink(const SwitchRecord* before, const SwitchRecord* after, Row row) {
    Relist(switches_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
  }

  void Relink(const CleanupLog* before, const CleanupLog* after, Row row) {
    Relist(cleanup_logs_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
  }

  void Relink(const RunSegment* before, const RunSegment* after, Row row) {
    Relist(run_segments_by_agent, before ? &before->agent_id : nullptr,
           after ? &after->agent_id : nullptr, row);
    Relist(run_segments_by_tenant, before ? &before->tenant_id : nullptr,
           after ? &after->tenant_id : nullptr, row);
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
bool SwitchLess(const SwitchRecord& a, const SwitchRecord& b) {
  return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
}
bool CleanupLess(const CleanupLog& a, const CleanupLog& b) {
  return std::tie(a.received_at, a.id) < std::tie(b.received_at, b.id);
}
bool SegmentLess(const RunSegment& a, const RunSegment& b) {
  return std::tie(a.started_at, a.id) < std::tie(b.started_at, b.id);
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
    if (mode_ == TxMode::kWrite) {
      // After the undo log: a deletion it took back may have restored one of these.
      state_->prices.RemoveInserted(price_seq_at_begin_, state_->next_price_seq);
      // The sequence rolls back too, as SQLite's does: both stores number the same
      // committed writes the same.
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
    const int64_t seq = state_->next_price_seq++;
    state_->prices.Insert(o, seq);
    return seq;
  }
  absl::StatusOr<std::vector<PriceObservation>> ListPriceObservations(std::string_view tenant_id,
                                                                      const Pool& pool, Time from,
                                                                      Time to) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->prices.Range(tenant_id, pool, from, to);
  }
  absl::StatusOr<std::vector<PriceObservation>> ListLatestPrices(
      std::string_view tenant_id, std::string_view region,
      std::string_view instance_type) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->prices.Latest(tenant_id, region, instance_type);
  }
  absl::StatusOr<std::vector<PriceObservation>> ListTenantPriceObservations(
      std::string_view tenant_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->prices.OfTenant(tenant_id);
  }
  absl::StatusOr<std::vector<Pool>> ListPriceSeries(std::string_view tenant_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->prices.Pools(tenant_id);
  }
  absl::Status DeletePriceObservations(const std::vector<int64_t>& seqs) override {
    if (absl::Status s = Writable(); !s.ok()) return s;
    auto deletion = std::make_unique<PriceDeletion>();
    state_->prices.Delete(seqs, deletion.get());
    if (!deletion->series.empty()) undo_.push_back(UndoEntry{0, std::move(deletion)});
    return absl::OkStatus();
  }

  absl::Status InsertRunSegment(const RunSegment& s) override {
    if (absl::Status st = Writable(); !st.ok()) return st;
    return state_->Insert(s, undo_);
  }
  absl::Status UpdateRunSegment(const RunSegment& s) override {
    if (absl::Status st = Writable(); !st.ok()) return st;
    return state_->Update(s, undo_);
  }
  absl::StatusOr<RunSegment> FindOpenRunSegment(std::string_view agent_id,
                                                std::string_view instance_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    for (RunRole role : {RunRole::kPrimary, RunRole::kReplica}) {
      if (std::optional<Row> row = state_->open_segments.Find({agent_id, instance_id, role})) {
        return state_->rows<RunSegment>()[*row];
      }
    }
    return absl::NotFoundError(
        fmt::format("no open run segment for agent {} instance {}", agent_id, instance_id));
  }
  absl::StatusOr<std::vector<RunSegment>> ListRunSegments(std::string_view agent_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<RunSegment>(state_->run_segments_by_agent, agent_id, SegmentLess);
  }
  absl::StatusOr<std::vector<RunSegment>> ListTenantRunSegments(
      std::string_view tenant_id) override {
    if (absl::Status s = Usable(); !s.ok()) return s;
    return state_->CollectList<RunSegment>(state_->run_segments_by_tenant, tenant_id, SegmentLess);
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

absl::Status MemoryStore::TouchRegistration(std::string_view id, Time at) {
  std::lock_guard lock(state_->mu);
  // last_seen_at is in no index, so the row changes in place.
  if (std::optional<Row> row = state_->table<Registration>().by_key.Find(id)) {
    Registration& r = state_->rows<Registration>()[*row];
    r.last_seen_at = std::max(r.last_seen_at, at);
  }
  return absl::OkStatus();
}

}  // namespace spotopt
