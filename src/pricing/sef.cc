#include "spotopt/pricing/sef.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <tuple>

#include "absl/numeric/int128.h"

namespace spotopt::sef {
namespace {

int64_t BucketMicros(const Options& o) { return absl::ToInt64Microseconds(o.bucket); }

int SourceIndex(PriceSource s) { return static_cast<int>(s); }

// Earlier observation first; seq breaks ties so the order is total.
bool Earlier(const Pick& a, const Pick& b) {
  return std::tie(a.observed_us, a.seq) < std::tie(b.observed_us, b.seq);
}

bool SampleLess(const Sample& a, const Sample& b) {
  return std::tie(a.series, a.observed_us, a.seq) < std::tie(b.series, b.observed_us, b.seq);
}

// a + (b - a) * k / n, rounded half away from zero; exact in 128 bits.
int64_t Lerp(int64_t a, int64_t b, int64_t k, int64_t n) {
  const absl::int128 num = absl::int128(b - a) * k;
  absl::int128 q = num / n;
  const absl::int128 r = num % n;
  if (2 * (r < 0 ? -r : r) >= n) q += num < 0 ? -1 : 1;
  return a + absl::Int128Low64(q);
}

}  // namespace

absl::Status Validate(const Options& o) {
  if (o.bucket < absl::Seconds(1) || o.bucket % absl::Seconds(1) != absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sef.bucket: a whole number of seconds, at least 1");
  }
  if (o.gap < o.bucket) return absl::InvalidArgumentError("sef.gap: at least one bucket");
  if (o.max_fill_buckets < 0 || o.max_fill_buckets > 10'000) {
    return absl::InvalidArgumentError("sef.max_fill_buckets: 0 .. 10000");
  }
  if (o.discrepancy_ppm < 0 || o.discrepancy_ppm > 1'000'000) {
    return absl::InvalidArgumentError("sef.discrepancy_ppm: 0 .. 1000000");
  }
  return absl::OkStatus();
}

const Pick& MeasuredBucket::chosen() const {
  for (const std::optional<Pick>& p : picks) {
    if (p) return *p;
  }
  // Bucketize and Merge never build a bucket without a pick.
  std::abort();
}

PriceSource MeasuredBucket::source() const {
  for (int i = 0; i < kSourceCount; ++i) {
    if (picks[i]) return static_cast<PriceSource>(i);
  }
  std::abort();
}

bool MeasuredBucket::discrepancy(const Options& options) const {
  const int64_t chosen_price = chosen().price_micros;
  for (const std::optional<Pick>& p : picks) {
    if (!p) continue;
    const absl::int128 diff = std::abs(p->price_micros - chosen_price);
    if (diff * 1'000'000 > absl::int128(options.discrepancy_ppm) * chosen_price) {
      return true;
    }
  }
  return false;
}

int64_t BucketStart(int64_t t_us, const Options& options) {
  const int64_t b = BucketMicros(options);
  int64_t q = t_us / b;
  if (t_us % b < 0) --q;
  return q * b;
}

std::vector<MeasuredBucket> Bucketize(std::span<Sample> samples, const Options& options) {
  if (!std::is_sorted(samples.begin(), samples.end(), SampleLess)) {
    std::sort(samples.begin(), samples.end(), SampleLess);
  }
  // Buckets are large; sizing the output once avoids copying it while it grows.
  size_t buckets = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i == 0 || samples[i].series != samples[i - 1].series ||
        BucketStart(samples[i].observed_us, options) !=
            BucketStart(samples[i - 1].observed_us, options)) {
      ++buckets;
    }
  }
  std::vector<MeasuredBucket> out;
  out.reserve(buckets);
  for (const Sample& s : samples) {
    const int64_t start = BucketStart(s.observed_us, options);
    if (out.empty() || out.back().series != s.series || out.back().start_us != start) {
      out.push_back(MeasuredBucket{s.series, start, {}, 0});
    }
    MeasuredBucket& b = out.back();
    // Samples arrive in time order, so the first of each source is its earliest.
    std::optional<Pick>& pick = b.picks[SourceIndex(s.source)];
    if (!pick) pick = Pick{s.price_micros, s.observed_us, s.seq};
    ++b.observations;
  }
  return out;
}

void Merge(std::vector<MeasuredBucket>& base, std::span<const MeasuredBucket> update) {
  const auto key_less = [](const MeasuredBucket& a, const MeasuredBucket& b) {
    return std::tie(a.series, a.start_us) < std::tie(b.series, b.start_us);
  };
  std::vector<MeasuredBucket> added;
  for (const MeasuredBucket& u : update) {
    auto it = std::lower_bound(base.begin(), base.end(), u, key_less);
    if (it == base.end() || key_less(u, *it)) {
      added.push_back(u);
      continue;
    }
    for (int i = 0; i < kSourceCount; ++i) {
      if (u.picks[i] && (!it->picks[i] || Earlier(*u.picks[i], *it->picks[i]))) {
        it->picks[i] = u.picks[i];
      }
    }
    it->observations += u.observations;
  }
  if (added.empty()) return;
  const auto middle = static_cast<std::ptrdiff_t>(base.size());
  base.insert(base.end(), added.begin(), added.end());
  std::inplace_merge(base.begin(), base.begin() + middle, base.end(), key_less);
}

std::string_view ToString(PointSource s) {
  switch (s) {
    case PointSource::kCatalog:
      return "catalog";
    case PointSource::kPrimary:
      return "primary";
    case PointSource::kReplica:
      return "replica";
    case PointSource::kInterpolated:
      return "interpolated";
  }
  return "unknown";
}

std::vector<CleanPoint> Clean(std::span<const MeasuredBucket> measured, int64_t from_us,
                              int64_t to_us, int64_t now_us, const Options& options) {
  const int64_t width = BucketMicros(options);
  const int64_t open_start = BucketStart(now_us, options);
  std::vector<CleanPoint> out;
  for (size_t i = 0; i < measured.size(); ++i) {
    const MeasuredBucket& m = measured[i];
    if (i > 0) {
      // The hole between the previous measured bucket and this one.
      const MeasuredBucket& prev = measured[i - 1];
      const int64_t steps = (m.start_us - prev.start_us) / width;  // missing + 1
      if (steps > 1 && steps - 1 <= options.max_fill_buckets) {
        const int64_t a = prev.chosen().price_micros;
        const int64_t b = m.chosen().price_micros;
        for (int64_t k = 1; k < steps; ++k) {
          const int64_t start = prev.start_us + k * width;
          if (start >= open_start) break;
          if (start < from_us || start >= to_us) continue;
          const int64_t distance = std::min(k, steps - k);
          out.push_back(CleanPoint{
              start, Lerp(a, b, k, steps), PointSource::kInterpolated,
              1.0 - static_cast<double>(distance) / (options.max_fill_buckets + 2), false});
        }
      }
    }
    if (m.start_us >= from_us && m.start_us < to_us) {
      out.push_back(CleanPoint{m.start_us, m.chosen().price_micros,
                               static_cast<PointSource>(m.source()), 1.0, m.discrepancy(options)});
    }
  }
  return out;
}

std::vector<Gap> DetectGaps(std::span<const MeasuredBucket> measured, const Options& options) {
  const int64_t width = BucketMicros(options);
  const int64_t gap = absl::ToInt64Microseconds(options.gap);
  std::vector<Gap> out;
  for (size_t i = 1; i < measured.size(); ++i) {
    const int64_t span = measured[i].start_us - measured[i - 1].start_us;
    if (span <= gap) continue;
    const int64_t missing = span / width - 1;
    out.push_back(Gap{measured[i - 1].start_us, measured[i].start_us, missing,
                      missing <= options.max_fill_buckets});
  }
  return out;
}

double Volatility(std::span<const int64_t> prices) {
  if (prices.size() < 2) return 0;
  double mean = 0;
  for (int64_t p : prices) mean += static_cast<double>(p);
  mean /= static_cast<double>(prices.size());
  double var = 0;
  for (int64_t p : prices) var += (static_cast<double>(p) - mean) * (static_cast<double>(p) - mean);
  var /= static_cast<double>(prices.size());
  return mean > 0 ? std::sqrt(var) / mean : 0;
}

}  // namespace spotopt::sef
