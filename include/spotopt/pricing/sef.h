// SEF, the price data-quality pipeline: raw price observations in, one clean value per
// UTC time bucket out. Pure functions, no I/O, no clock reads: the caller passes `now`.
//
//   observations --Bucketize--> measured buckets --Clean--> clean points (+ DetectGaps)
//
// 1. Bucket by (series, UTC bucket start). A series is one pool's spot prices or one
//    (region, type)'s on-demand prices; the caller numbers series densely, so prices
//    of different series are compared as integers and can never be mixed.
// 2. One value per bucket by source priority: catalog > primary > replica; within a
//    source the earliest observation (then the lowest seq) wins. A bucket whose
//    sources disagree by more than a tolerance is flagged.
// 3. Gaps: a hole between two measured buckets whose starts are more than `gap` apart.
// 4. Fill: every empty bucket between two measured ones is linearly interpolated
//    (marked kInterpolated, with a confidence) when the run of empty buckets is at most
//    `max_fill_buckets` long; longer runs stay empty. Never overwrites a measured
//    bucket, never extrapolates past the first or last measured bucket, never fills
//    the bucket that is still open at `now`.
//
// Incremental: Merge(Bucketize(a), Bucketize(b)) == Bucketize(a + b) for any split, and
// Merge touches only the buckets present in its second argument.
#ifndef SPOTOPT_PRICING_SEF_H_
#define SPOTOPT_PRICING_SEF_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "spotopt/domain/report.h"
#include "spotopt/types.h"

namespace spotopt::sef {

struct Options {
  Duration bucket = absl::Seconds(300);
  Duration gap = absl::Seconds(600);
  int max_fill_buckets = 24;
  // Primary and replica (or catalog) values of one bucket further apart than this,
  // in parts per million of the chosen value, raise the discrepancy flag.
  int64_t discrepancy_ppm = 10'000;  // 1 %
};
// InvalidArgument unless bucket >= 1 s and a whole number of seconds, gap >= bucket,
// 0 <= max_fill_buckets <= 10000 and 0 <= discrepancy_ppm <= 1'000'000.
SPOTOPT_EXPORT absl::Status Validate(const Options& options);

// One observation as the pipeline sees it.
struct Sample {
  uint32_t series = 0;
  int64_t observed_us = 0;  // UTC microseconds since the epoch
  int64_t price_micros = 0;
  int64_t seq = 0;  // unique per observation; breaks ties between equal times
  PriceSource source = PriceSource::kPrimary;
};

// The observation a source contributes to a bucket: its earliest.
struct Pick {
  int64_t price_micros = 0;
  int64_t observed_us = 0;
  int64_t seq = 0;
  friend bool operator==(const Pick&, const Pick&) = default;
};

inline constexpr int kSourceCount = 3;  // catalog, primary, replica

// What the observations that fall into one bucket say.
struct MeasuredBucket {
  uint32_t series = 0;
  int64_t start_us = 0;
  std::array<std::optional<Pick>, kSourceCount> picks;  // indexed by PriceSource
  int64_t observations = 0;

  // The chosen value: the best source's pick. A measured bucket always has one.
  const Pick& chosen() const;
  PriceSource source() const;
  bool discrepancy(const Options& options) const;
  friend bool operator==(const MeasuredBucket&, const MeasuredBucket&) = default;
};

// The UTC bucket that contains `t_us` (floor, also for times before 1970).
SPOTOPT_EXPORT int64_t BucketStart(int64_t t_us, const Options& options);

// Steps 1-2 over any number of series. Sorts `samples` in place by (series, time,
// seq); already sorted input is detected and costs one linear pass. Result ordered by
// (series, start).
SPOTOPT_EXPORT std::vector<MeasuredBucket> Bucketize(std::span<Sample> samples,
                                                     const Options& options);

// Folds `update` (ordered by (series, start), as Bucketize returns it) into `base`
// (same order): buckets of `update` absent from `base` are inserted, present ones
// combined source by source; every other bucket of `base` is left as it is.
SPOTOPT_EXPORT void Merge(std::vector<MeasuredBucket>& base,
                          std::span<const MeasuredBucket> update);

enum class PointSource { kCatalog, kPrimary, kReplica, kInterpolated };
SPOTOPT_EXPORT std::string_view ToString(PointSource s);

// One bucket of a clean series.
struct CleanPoint {
  int64_t start_us = 0;
  int64_t price_micros = 0;
  PointSource source = PointSource::kPrimary;
  // 1 for a measured bucket; for an interpolated one it falls with the distance to
  // the nearest measured bucket: 1 - d / (max_fill_buckets + 2), d in buckets.
  double confidence = 1;
  bool discrepancy = false;
  friend bool operator==(const CleanPoint&, const CleanPoint&) = default;
};

// Step 4 for ONE series (`measured` ordered by start, a single series): the clean
// points whose bucket starts lie in [from_us, to_us), measured and interpolated. To
// interpolate near the edges of the range, pass the measured buckets just outside it
// as well (up to max_fill_buckets + 1 buckets on each side).
SPOTOPT_EXPORT std::vector<CleanPoint> Clean(std::span<const MeasuredBucket> measured,
                                             int64_t from_us, int64_t to_us, int64_t now_us,
                                             const Options& options);

// A hole in one series between two measured buckets (step 3).
struct Gap {
  int64_t after_us = 0;   // start of the measured bucket before the hole
  int64_t before_us = 0;  // start of the measured bucket after it
  int64_t missing_buckets = 0;
  bool filled = false;  // short enough to be interpolated
  friend bool operator==(const Gap&, const Gap&) = default;
};
SPOTOPT_EXPORT std::vector<Gap> DetectGaps(std::span<const MeasuredBucket> measured,
                                           const Options& options);

// Relative volatility of a run of prices: population standard deviation over the
// mean (0 for fewer than two values).
SPOTOPT_EXPORT double Volatility(std::span<const int64_t> prices_micros);

}  // namespace spotopt::sef

#endif  // SPOTOPT_PRICING_SEF_H_
