// MemoryStore's price observations, by far the most numerous records, kept apart and
// compact: 40-byte rows with their strings interned, in one time-ordered list per
// series, so a pool's range is a binary search.
#ifndef SPOTOPT_STORE_MEMORY_PRICE_STORE_H_
#define SPOTOPT_STORE_MEMORY_PRICE_STORE_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
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
#include "store/memory/intern.h"
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

// A series' rows ordered by (observed_at, seq), in sorted chunks of at most 256 rows.
// Growing never copies the whole series (no reallocation peak), a small series only
// takes what its first, doubling chunk needs, and an insert out of order shifts at
// most one chunk, so n inserts in any order cost O(n log n + 256 n), not O(n^2).
class PriceRows {
 public:
  bool empty() const { return chunks_.empty(); }
  const PriceRow& back() const { return chunks_.back().back(); }

  void Insert(const PriceRow& row) {
    if (empty() || !ByTime(row, back())) {
      // The newest, as usual: appending fills chunks completely.
      if (empty() || chunks_.back().size() == kChunk) {
        // A first chunk starts small; later ones will fill.
        const size_t capacity = empty() ? 4 : kChunk;
        chunks_.emplace_back().reserve(capacity);
      }
      Add(chunks_.back(), chunks_.back().end(), row);
      return;
    }
    // The last chunk starting at or before `row`, or the first.
    auto chunk = std::partition_point(
        chunks_.begin() + 1, chunks_.end(),
        [&](const std::vector<PriceRow>& c) { return !ByTime(row, c.front()); });
    --chunk;
    auto at = std::upper_bound(chunk->begin(), chunk->end(), row, ByTime);
    if (chunk->size() == kChunk) {
      const auto offset = static_cast<size_t>(at - chunk->begin());
      if (offset == kChunk && chunk + 1 != chunks_.end() && (chunk + 1)->size() < kChunk) {
        // Past the end of a full chunk: the front of the next one has room (a gap
        // filled newest-first lands here again and again).
        ++chunk;
        Add(*chunk, chunk->begin(), row);
        return;
      }
      if (offset == 0 || offset == kChunk) {
        // At an end of a full chunk (newest-first history keeps landing at the very
        // front): a chunk of its own, so the full ones stay full.
        auto fresh = chunks_.emplace(offset == 0 ? chunk : chunk + 1);
        Add(*fresh, fresh->end(), row);
        return;
      }
      std::vector<PriceRow> upper(chunk->begin() + kChunk / 2, chunk->end());
      chunk->resize(kChunk / 2);
      chunk = chunks_.insert(chunk + 1, std::move(upper)) - (offset <= kChunk / 2 ? 1 : 0);
      at = chunk->begin() +
           static_cast<ptrdiff_t>(offset <= kChunk / 2 ? offset : offset - kChunk / 2);
    }
    Add(*chunk, at, row);
  }

  // Puts back rows sorted by (observed_at, seq): a rolled-back deletion, rare.
  void Merge(const std::vector<PriceRow>& rows) {
    for (const PriceRow& row : rows) Insert(row);
  }

  // Calls f(row) for the rows observed in [from_us, to_us), in order.
  template <typename F>
  void ForEachIn(int64_t from_us, int64_t to_us, F f) const {
    auto chunk = std::partition_point(
        chunks_.begin(), chunks_.end(),
        [&](const std::vector<PriceRow>& c) { return c.back().observed_us < from_us; });
    for (; chunk != chunks_.end(); ++chunk) {
      auto row = std::partition_point(chunk->begin(), chunk->end(),
                                      [&](const PriceRow& r) { return r.observed_us < from_us; });
      for (; row != chunk->end(); ++row) {
        if (row->observed_us >= to_us) return;
        f(*row);
      }
    }
  }

  template <typename F>
  void ForEach(F f) const {
    for (const std::vector<PriceRow>& chunk : chunks_) {
      for (const PriceRow& row : chunk) f(row);
    }
  }

  // Removes the `count` rows matching `pred`, handing each to `removed`. The rows
  // are searched from the newest back, so removing recent rows (a rollback) costs
  // only what follows them.
  template <typename Pred, typename Removed>
  void EraseIf(size_t count, Pred pred, Removed removed) {
    size_t first = chunks_.size();
    for (size_t found = 0; first > 0 && found < count;) {
      --first;
      found +=
          static_cast<size_t>(std::count_if(chunks_[first].begin(), chunks_[first].end(), pred));
    }
    for (size_t i = first; i < chunks_.size(); ++i) {
      std::erase_if(chunks_[i], [&](const PriceRow& r) {
        if (!pred(r)) return false;
        removed(r);
        return true;
      });
    }
    std::erase_if(chunks_, [](const std::vector<PriceRow>& c) { return c.empty(); });
  }

 private:
  static constexpr size_t kChunk = 256;

  // Inserts into a chunk, growing its capacity by doubling up to kChunk.
  static void Add(std::vector<PriceRow>& chunk, std::vector<PriceRow>::iterator at,
                  const PriceRow& row) {
    if (chunk.size() == chunk.capacity()) {
      const auto offset = at - chunk.begin();
      chunk.reserve(std::clamp<size_t>(2 * chunk.capacity(), 4, kChunk));
      at = chunk.begin() + offset;
    }
    chunk.insert(at, row);
  }

  // Sorted, none empty, none over kChunk rows.
  std::vector<std::vector<PriceRow>> chunks_;
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
