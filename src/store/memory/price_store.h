// MemoryStore's price observations, by far the most numerous records, kept apart and
// compact: 40-byte rows with their strings interned, in one time-ordered list per
// series, so a pool's range is a binary search.
#ifndef SPOTOPT_STORE_MEMORY_PRICE_STORE_H_
#define SPOTOPT_STORE_MEMORY_PRICE_STORE_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "spotopt/domain/report.h"
#include "spotopt/types.h"
#include "store/memory/tables.h"

namespace spotopt::memory {

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

inline bool ByTime(const PriceRow& a, const PriceRow& b) {
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
  void Insert(const PriceObservation& o, int64_t seq);
  // Removes the rows with these seqs, recording them in *undo.
  void Delete(const std::vector<int64_t>& seqs, PriceDeletion* undo);
  void Restore(const PriceDeletion& deletion);
  // Removes the rows numbered [first, end): the inserts of a rolled-back transaction.
  void RemoveInserted(int64_t first, int64_t end);

  std::vector<PriceObservation> Range(std::string_view tenant_id, const Pool& pool, Time from,
                                      Time to) const;
  std::vector<PriceObservation> Latest(std::string_view tenant_id, std::string_view region,
                                       std::string_view instance_type) const;
  std::vector<PriceObservation> OfTenant(std::string_view tenant_id) const;
  std::vector<Pool> Pools(std::string_view tenant_id) const;

 private:
  uint32_t SeriesOf(const SeriesKey& key);
  uint32_t Reporter(std::string_view agent_id, std::string_view registration_id);
  std::optional<GroupKey> FindGroup(std::string_view tenant_id, std::string_view region,
                                    std::string_view instance_type) const;
  const std::vector<uint32_t>& TenantSeries(std::string_view tenant_id) const;
  PriceObservation Materialize(const Series& s, const PriceRow& row) const;

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

}  // namespace spotopt::memory

#endif  // SPOTOPT_STORE_MEMORY_PRICE_STORE_H_
