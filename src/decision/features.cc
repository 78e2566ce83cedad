#include "spotopt/decision/features.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace spotopt::decision {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

double Micros(Money m) { return static_cast<double>(m.micros()); }

// Time-weighted standard deviation over mean of the step function on [from, now].
// Every step counts for the part of its span that lies in the range.
double Deviation(std::span<const ledger::PriceStep> steps, Time from, Time now) {
  double weight = 0;
  double sum = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Time end = i + 1 < steps.size() ? steps[i + 1].from : now;
    const double w = absl::ToDoubleSeconds(std::min(end, now) - std::max(steps[i].from, from));
    if (w <= 0) continue;
    weight += w;
    sum += w * Micros(steps[i].price);
  }
  if (weight <= 0) return 0;
  const double mean = sum / weight;
  double var = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Time end = i + 1 < steps.size() ? steps[i + 1].from : now;
    const double w = absl::ToDoubleSeconds(std::min(end, now) - std::max(steps[i].from, from));
    if (w <= 0) continue;
    const double d = Micros(steps[i].price) - mean;
    var += w * d * d;
  }
  return mean > 0 ? std::sqrt(var / weight) / mean : 0;
}

}  // namespace

std::optional<PriceHistory> Summarize(std::span<const ledger::PriceStep> steps, Time now) {
  const Time from = now - kHistoryWindow;
  const auto after = [](Time t, const ledger::PriceStep& s) { return t < s.from; };
  // The step in effect when the week began, and every one that took effect since.
  auto first = std::upper_bound(steps.begin(), steps.end(), from, after);
  if (first != steps.begin()) --first;
  const auto last = std::upper_bound(first, steps.end(), now, after);
  if (first == last) return std::nullopt;
  const std::span<const ledger::PriceStep> week(first, last);

  PriceHistory h;
  h.min = h.max = week.front().price;
  double weight = 0;
  double sum = 0;
  for (size_t i = 0; i < week.size(); ++i) {
    const Time end = i + 1 < week.size() ? week[i + 1].from : now;
    const double w = absl::ToDoubleSeconds(end - std::max(week[i].from, from));
    weight += w;
    sum += w * Micros(week[i].price);
    h.min = std::min(h.min, week[i].price);
    h.max = std::max(h.max, week[i].price);
    if (i > 0 && week[i].price != week[i - 1].price) ++h.changes;
  }
  h.mean = weight > 0 ? Money::FromMicros(std::llround(sum / weight)) : week.back().price;
  // Capped at the window: older history is not loaded, so it cannot be told apart.
  h.since_change = std::min(now - week.back().from, kHistoryWindow);
  h.deviation_day = Deviation(week, now - absl::Hours(24), now);
  return h;
}

FeatureRow Features(const PoolMarket& p) {
  FeatureRow f;
  f.fill(kMissing);
  if (!p.spot) return f;
  const double price = Micros(p.spot->price);
  if (p.on_demand) f[0] = static_cast<float>(std::log(price / Micros(*p.on_demand)));
  if (p.history) {
    const PriceHistory& h = *p.history;
    f[1] = static_cast<float>(std::log(price / Micros(h.mean)));
    f[2] = static_cast<float>(std::log(price / Micros(h.min)));
    f[3] = static_cast<float>(std::log(Micros(h.max) / price));
    f[4] = static_cast<float>(std::log1p(absl::ToDoubleHours(h.since_change)));
    f[5] = static_cast<float>(h.changes);
    f[6] = static_cast<float>(h.deviation_day);
  }
  if (p.advisor) {
    f[7] = static_cast<float>(p.advisor->band.index);
    f[8] = static_cast<float>(p.advisor->savings_percent / 100.0);
  }
  return f;
}

}  // namespace spotopt::decision
