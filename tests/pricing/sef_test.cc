// The SEF pipeline (spotopt/pricing/sef.h) as pure functions, including each mistake
// the previous system made. Runs under TZ=UTC and TZ=America/New_York (see
// tests/CMakeLists.txt): nothing here may depend on the local zone.
#include "spotopt/pricing/sef.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace spotopt::sef {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kBucket = 5 * kMinute;

// 2025-11-02T04:00:00Z: 00:00 in New York, an hour before its clocks fall back.
constexpr int64_t kT0 = 1'762'056'000'000'000;

Sample S(uint32_t series, int64_t t, int64_t price, int64_t seq,
         PriceSource source = PriceSource::kPrimary) {
  return Sample{series, t, price, seq, source};
}

std::vector<MeasuredBucket> Run(std::vector<Sample> samples, const Options& o = {}) {
  return Bucketize(samples, o);
}

std::vector<int64_t> Prices(const std::vector<CleanPoint>& points) {
  std::vector<int64_t> out;
  for (const CleanPoint& p : points) out.push_back(p.price_micros);
  return out;
}

TEST_CASE("options are validated") {
  CHECK(Validate(Options{}).ok());
  Options o;
  o.bucket = absl::Milliseconds(1500);
  CHECK(absl::IsInvalidArgument(Validate(o)));
  o = Options{};
  o.gap = absl::Seconds(10);
  CHECK(absl::IsInvalidArgument(Validate(o)));
  o = Options{};
  o.max_fill_buckets = -1;
  CHECK(absl::IsInvalidArgument(Validate(o)));
  o = Options{};
  o.discrepancy_ppm = 2'000'000;
  CHECK(absl::IsInvalidArgument(Validate(o)));
}

TEST_CASE("buckets align to UTC, before 1970 as well") {
  const Options o;
  CHECK(BucketStart(kT0, o) == kT0);
  CHECK(BucketStart(kT0 + kBucket - 1, o) == kT0);
  CHECK(BucketStart(kT0 + kBucket, o) == kT0 + kBucket);
  CHECK(BucketStart(-1, o) == -kBucket);
  CHECK(BucketStart(-kBucket, o) == -kBucket);
  // Across New York's fall-back hour the buckets stay 300 s apart: 36 reports every
  // five minutes from 00:00 to 03:00 local time fill 36 consecutive buckets.
  std::vector<Sample> samples;
  for (int k = 0; k < 36; ++k) samples.push_back(S(0, kT0 + k * kBucket + 7'000'000, 100, k));
  const std::vector<MeasuredBucket> b = Run(samples);
  REQUIRE(b.size() == 36);
  for (int k = 0; k < 36; ++k) CHECK(b[k].start_us == kT0 + k * kBucket);
  CHECK(DetectGaps(b, o).empty());
}

TEST_CASE("empty and single-point series") {
  const Options o;
  CHECK(Run({}).empty());
  CHECK(Clean({}, kT0, kT0 + kBucket, kT0, o).empty());
  CHECK(DetectGaps({}, o).empty());
  const std::vector<MeasuredBucket> one = Run({S(0, kT0, 38'900, 1)});
  REQUIRE(one.size() == 1);
  CHECK(Clean(one, kT0 - 10 * kBucket, kT0 + 10 * kBucket, kT0 + 20 * kBucket, o) ==
        std::vector<CleanPoint>{{kT0, 38'900, PointSource::kPrimary, 1.0, false}});
  CHECK(DetectGaps(one, o).empty());
  CHECK(Volatility(std::vector<int64_t>{}) == 0);
  CHECK(Volatility(std::vector<int64_t>{5}) == 0);
}

TEST_CASE("two pools reported in the same second are never averaged") {
  const std::vector<MeasuredBucket> b = Run({S(1, kT0, 38'900, 1), S(2, kT0, 41'100, 2)});
  REQUIRE(b.size() == 2);
  CHECK(b[0].series == 1);
  CHECK(b[0].chosen().price_micros == 38'900);
  CHECK(b[1].series == 2);
  CHECK(b[1].chosen().price_micros == 41'100);
}

TEST_CASE("source priority: catalog > primary > replica; the earliest breaks ties") {
  const Options o;
  // A replica's report without a primary twin is kept, not dropped.
  std::vector<MeasuredBucket> b = Run({S(0, kT0 + 10, 40'000, 1, PriceSource::kReplica)});
  REQUIRE(b.size() == 1);
  CHECK(b[0].source() == PriceSource::kReplica);
  CHECK(b[0].chosen().price_micros == 40'000);
  // So is a primary's without a replica twin.
  b = Run({S(0, kT0 + 10, 40'000, 1, PriceSource::kPrimary)});
  REQUIRE(b.size() == 1);
  CHECK(b[0].source() == PriceSource::kPrimary);

  // Primary wins over an earlier replica; the earliest primary wins over later ones.
  b = Run({S(0, kT0 + 10, 40'000, 1, PriceSource::kReplica),
           S(0, kT0 + 50, 40'100, 2, PriceSource::kPrimary),
           S(0, kT0 + 20, 40'200, 3, PriceSource::kPrimary)});
  REQUIRE(b.size() == 1);
  CHECK(b[0].source() == PriceSource::kPrimary);
  CHECK(b[0].chosen() == Pick{40'200, kT0 + 20, 3});
  CHECK(b[0].observations == 3);
  // Equal times: the lower seq.
  b = Run({S(0, kT0, 40'300, 9), S(0, kT0, 40'400, 4)});
  CHECK(b[0].chosen() == Pick{40'400, kT0, 4});
  // Catalog outranks both.
  b = Run({S(0, kT0 + 1, 40'000, 1), S(0, kT0 + 2, 39'000, 2, PriceSource::kCatalog)});
  CHECK(b[0].source() == PriceSource::kCatalog);
  CHECK(Clean(b, kT0, kT0 + kBucket, kT0, o)[0].source == PointSource::kCatalog);
}

TEST_CASE("a discrepancy between sources beyond the tolerance is flagged") {
  Options o;
  o.discrepancy_ppm = 10'000;  // 1 %
  // 1 % apart exactly: not flagged; one micro-dollar more: flagged.
  std::vector<MeasuredBucket> b =
      Run({S(0, kT0, 100'000, 1), S(0, kT0 + 1, 101'000, 2, PriceSource::kReplica)});
  CHECK_FALSE(b[0].discrepancy(o));
  b = Run({S(0, kT0, 100'000, 1), S(0, kT0 + 1, 101'001, 2, PriceSource::kReplica)});
  CHECK(b[0].discrepancy(o));
  CHECK(Clean(b, kT0, kT0 + kBucket, kT0, o)[0].discrepancy);
  // Two primaries disagreeing is not a discrepancy between sources: the earliest rules.
  b = Run({S(0, kT0, 100'000, 1), S(0, kT0 + 1, 200'000, 2)});
  CHECK_FALSE(b[0].discrepancy(o));
}

TEST_CASE("out-of-order and duplicate reports give the same buckets") {
  std::vector<Sample> ordered;
  for (int k = 0; k < 20; ++k) ordered.push_back(S(k % 3, kT0 + k * 97'000'000, 1000 + k, k));
  std::vector<Sample> shuffled = ordered;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::vector<Sample> doubled = shuffled;
  doubled.insert(doubled.end(), ordered.begin(), ordered.end());  // the same reports again
  const std::vector<MeasuredBucket> expected = Run(ordered);
  CHECK(Run(shuffled) == expected);
  std::vector<MeasuredBucket> with_duplicates = Run(doubled);
  REQUIRE(with_duplicates.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(with_duplicates[i].picks == expected[i].picks);
    CHECK(with_duplicates[i].observations == 2 * expected[i].observations);
  }
}

TEST_CASE("interpolated points lie exactly on the straight line") {
  const Options o;
  // Measured at buckets 0 and 4: buckets 1, 2, 3 are a quarter, half and three
  // quarters of the way.
  const std::vector<MeasuredBucket> b =
      Run({S(0, kT0, 100'000, 1), S(0, kT0 + 4 * kBucket, 200'000, 2)});
  const std::vector<CleanPoint> points = Clean(b, kT0, kT0 + 5 * kBucket, kT0 + 10 * kBucket, o);
  CHECK(Prices(points) == std::vector<int64_t>{100'000, 125'000, 150'000, 175'000, 200'000});
  for (int k = 0; k < 5; ++k) CHECK(points[k].start_us == kT0 + k * kBucket);
  CHECK(points[0].source == PointSource::kPrimary);
  CHECK(points[2].source == PointSource::kInterpolated);
  // Confidence falls towards the middle of the gap.
  CHECK(points[1].confidence == doctest::Approx(1.0 - 1.0 / 26));
  CHECK(points[2].confidence == doctest::Approx(1.0 - 2.0 / 26));
  CHECK(points[3].confidence == points[1].confidence);

  // Thirds round half away from zero, going down as well as up.
  const std::vector<MeasuredBucket> down = Run({S(0, kT0, 11, 1), S(0, kT0 + 3 * kBucket, 1, 2)});
  CHECK(Prices(Clean(down, kT0, kT0 + 4 * kBucket, kT0 + 9 * kBucket, o)) ==
        std::vector<int64_t>{11, 8, 4, 1});
  const std::vector<MeasuredBucket> half = Run({S(0, kT0, 2, 1), S(0, kT0 + 2 * kBucket, 1, 2)});
  CHECK(Prices(Clean(half, kT0, kT0 + 3 * kBucket, kT0 + 9 * kBucket, o)) ==
        std::vector<int64_t>{2, 1, 1});
  const std::vector<MeasuredBucket> up = Run({S(0, kT0, 1, 1), S(0, kT0 + 2 * kBucket, 2, 2)});
  CHECK(Prices(Clean(up, kT0, kT0 + 3 * kBucket, kT0 + 9 * kBucket, o)) ==
        std::vector<int64_t>{1, 2, 2});
}

TEST_CASE("gaps: short ones filled, long ones left empty, never extrapolated") {
  Options o;
  o.max_fill_buckets = 24;
  // 24 missing buckets: filled. 25: empty.
  const std::vector<MeasuredBucket> short_gap =
      Run({S(0, kT0, 1000, 1), S(0, kT0 + 25 * kBucket, 2000, 2)});
  const std::vector<MeasuredBucket> long_gap =
      Run({S(0, kT0, 1000, 1), S(0, kT0 + 26 * kBucket, 2000, 2)});
  const int64_t later = kT0 + 100 * kBucket;
  CHECK(Clean(short_gap, kT0, later, later, o).size() == 26);
  CHECK(Clean(long_gap, kT0, later, later, o).size() == 2);
  CHECK(DetectGaps(short_gap, o) == std::vector<Gap>{{kT0, kT0 + 25 * kBucket, 24, true}});
  CHECK(DetectGaps(long_gap, o) == std::vector<Gap>{{kT0, kT0 + 26 * kBucket, 25, false}});
  // One missing bucket is a hole below the 600 s gap threshold: filled, not a gap.
  const std::vector<MeasuredBucket> hole =
      Run({S(0, kT0, 1000, 1), S(0, kT0 + 2 * kBucket, 3000, 2)});
  CHECK(DetectGaps(hole, o).empty());
  CHECK(Prices(Clean(hole, kT0, later, later, o)) == std::vector<int64_t>{1000, 2000, 3000});
  // Nothing before the first or after the last measured bucket.
  const std::vector<CleanPoint> edges = Clean(hole, kT0 - 5 * kBucket, later, later, o);
  CHECK(edges.front().start_us == kT0);
  CHECK(edges.back().start_us == kT0 + 2 * kBucket);
}

TEST_CASE("the bucket still open is never filled") {
  const Options o;
  // Measured at buckets 0 and 4, but "now" is inside bucket 2: bucket 1 is closed and
  // filled; buckets 2 (open) and 3 (future) are not, though a later point exists.
  const std::vector<MeasuredBucket> b = Run({S(0, kT0, 100, 1), S(0, kT0 + 4 * kBucket, 500, 2)});
  const std::vector<CleanPoint> points =
      Clean(b, kT0, kT0 + 5 * kBucket, kT0 + 2 * kBucket + 30'000'000, o);
  REQUIRE(points.size() == 3);
  CHECK(points[1].start_us == kT0 + kBucket);
  CHECK(points[1].source == PointSource::kInterpolated);
  CHECK(points[2].start_us == kT0 + 4 * kBucket);
  CHECK(points[2].source == PointSource::kPrimary);
}

TEST_CASE("a range edge still interpolates from neighbours outside the range") {
  const Options o;
  const std::vector<MeasuredBucket> b = Run({S(0, kT0, 100, 1), S(0, kT0 + 4 * kBucket, 500, 2)});
  CHECK(Prices(Clean(b, kT0 + kBucket, kT0 + 3 * kBucket, kT0 + 9 * kBucket, o)) ==
        std::vector<int64_t>{200, 300});
}

// Random observations over a few series, with all three sources, duplicates and
// equal times; the same multiset split into batches in any order.
std::vector<Sample> RandomSamples(std::mt19937& rng, int n) {
  std::uniform_int_distribution<int> series(0, 3), bucket(0, 60), offset(0, 4), price(1, 50),
      source(0, 2);
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(S(series(rng), kT0 + bucket(rng) * kBucket + offset(rng) * kMinute,
                    price(rng) * 1000, i, static_cast<PriceSource>(source(rng))));
  }
  return out;
}

TEST_CASE("incremental batches equal the whole pipeline run from scratch") {
  std::mt19937 rng(20261123);
  const Options o;
  for (int round = 0; round < 200; ++round) {
    std::vector<Sample> all = RandomSamples(rng, 1 + static_cast<int>(rng() % 120));
    std::shuffle(all.begin(), all.end(), rng);
    const std::vector<MeasuredBucket> scratch = Run(all);

    std::vector<MeasuredBucket> state;
    size_t at = 0;
    while (at < all.size()) {
      const size_t n = 1 + rng() % 25;
      std::vector<Sample> batch(all.begin() + at, all.begin() + std::min(all.size(), at + n));
      at += batch.size();
      const std::vector<MeasuredBucket> update = Bucketize(batch, o);
      std::vector<MeasuredBucket> before = state;
      Merge(state, update);
      // Only the buckets of the batch changed.
      for (const MeasuredBucket& old : before) {
        const bool touched =
            std::any_of(update.begin(), update.end(), [&](const MeasuredBucket& u) {
              return u.series == old.series && u.start_us == old.start_us;
            });
        if (touched) continue;
        CHECK(std::find(state.begin(), state.end(), old) != state.end());
      }
    }
    REQUIRE(state == scratch);
    const int64_t now = kT0 + 70 * kBucket;
    for (uint32_t s = 0; s < 4; ++s) {
      std::vector<MeasuredBucket> one;
      for (const MeasuredBucket& b : state) {
        if (b.series == s) one.push_back(b);
      }
      const std::vector<CleanPoint> clean = Clean(one, kT0, now, now, o);
      // Interpolated points lie between their measured neighbours.
      for (size_t i = 0; i < clean.size(); ++i) {
        if (clean[i].source != PointSource::kInterpolated) continue;
        size_t lo = i, hi = i;
        while (clean[lo].source == PointSource::kInterpolated) --lo;
        while (clean[hi].source == PointSource::kInterpolated) ++hi;
        CHECK(clean[i].price_micros >= std::min(clean[lo].price_micros, clean[hi].price_micros));
        CHECK(clean[i].price_micros <= std::max(clean[lo].price_micros, clean[hi].price_micros));
      }
    }
  }
}

TEST_CASE("volatility is the relative standard deviation") {
  CHECK(Volatility(std::vector<int64_t>{100, 100, 100}) == 0);
  CHECK(Volatility(std::vector<int64_t>{90, 110}) == doctest::Approx(0.1));
}

}  // namespace
}  // namespace spotopt::sef
