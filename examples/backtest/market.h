// The market the backtest replays: one price series per spot pool and one on-demand
// series per instance type, as step functions in whole UTC seconds.
//
// Spot prices are sampled on the decision grid (every 300 s, the SEF bucket): the price
// of a pool at grid point g is the last AWS row at or before g, which is what an
// importer polling AWS every five minutes reads and what an agent's five-minute price
// report would carry. The Controller is given exactly these samples, one per bucket, so
// the ledger's price steps are exactly this market's steps (market_test checks it).
#ifndef SPOTOPT_EXAMPLES_BACKTEST_MARKET_H_
#define SPOTOPT_EXAMPLES_BACKTEST_MARKET_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "data.h"

namespace spotopt::backtest {

// A simulated instant: UTC seconds since the Unix epoch. Every instant of a run is a
// whole second, so an amount of money is an exact integer in Units.
using Sec = int64_t;
// Money over time: micro-dollars per hour times seconds. 3600 Units are 1 micro-dollar.
using Units = int64_t;
using SeriesId = int32_t;

Time ToTime(Sec s);
Sec ToSec(Time t);  // truncates to the second

// The ledger's rounding of an exact amount: to the nearest micro-dollar, halves away
// from zero (spotopt/ledger: RoundToMicros).
int64_t UnitsToMicros(Units u);

// A price in micro-dollars per hour, in effect from `at` until the next step.
struct Step {
  Sec at = 0;
  int64_t price = 0;
  friend bool operator==(const Step&, const Step&) = default;
};

struct Series {
  std::string instance_type;
  std::string az;           // empty: the type's on-demand price
  std::vector<Step> steps;  // ascending `at`, no two equal prices in a row
  bool on_demand() const { return az.empty(); }
  // "<type>.<az>", or "<type> on-demand".
  std::string name() const;
};

class Market {
 public:
  // Decision points are start + k * grid for 0 <= k < grid_points(); the run ends at
  // `end`. InvalidArgument unless start < end, both on the grid.
  static absl::StatusOr<Market> Create(std::string region, Sec start, Sec end, Sec grid);

  // InvalidArgument for an empty or unordered series, a repeated (type, az), or a price
  // that is not > 0.
  absl::StatusOr<SeriesId> Add(Series s);

  const std::string& region() const { return region_; }
  Sec start() const { return start_; }
  Sec end() const { return end_; }
  Sec grid() const { return grid_; }
  int64_t grid_points() const { return (end_ - start_) / grid_; }
  size_t size() const { return series_.size(); }
  const Series& series(SeriesId id) const { return series_[id]; }

  std::optional<SeriesId> Find(const std::string& type, const std::string& az) const;
  // The type's spot pools, by AZ, and its on-demand series (nullopt: none).
  const std::vector<SeriesId>& Pools(const std::string& type) const;
  std::optional<SeriesId> OnDemand(const std::string& type) const;
  std::vector<std::string> Types() const;  // sorted

  // The price in effect at t; nullopt before the series' first step.
  std::optional<int64_t> PriceAt(SeriesId id, Sec t) const;
  // The integral of the price over [a, b); the series must be priced at a.
  Units Integral(SeriesId id, Sec a, Sec b) const;

 private:
  Market(std::string region, Sec start, Sec end, Sec grid)
      : region_(std::move(region)), start_(start), end_(end), grid_(grid) {}
  std::string region_;
  Sec start_, end_, grid_;
  std::vector<Series> series_;
  absl::flat_hash_map<std::string, SeriesId> by_name_;
  absl::flat_hash_map<std::string, std::vector<SeriesId>> pools_;
  absl::flat_hash_map<std::string, SeriesId> on_demand_;
};

// The pools of a type in the data, by AZ.
std::span<const PoolHistory> PoolsOf(const Dataset& data, const std::string& type);

// The market of `types` over [start, end): their pools' AWS rows sampled on the grid,
// and their on-demand prices. A pool is priced from the first grid point at or after
// its first row. InvalidArgument for a type without an on-demand price or a pool.
absl::StatusOr<Market> SampleMarket(const Dataset& data, const std::vector<std::string>& types,
                                    Sec start, Sec end, Sec grid);

// The default period of a run over `types`, on the grid: from the first grid point at
// which every pool that has a row within two days of the first row is priced (the
// dumps start with most pools unpriced; the rest appear within a day), to the last
// grid point at or before the last row.
std::pair<Sec, Sec> DefaultPeriod(const Dataset& data, const std::vector<std::string>& types,
                                  Sec grid);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_MARKET_H_
