#include "interruptions.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "fleet.h"
#include "random.h"

namespace spotopt::backtest {
namespace {

constexpr double kMonth = 30 * 86400.0;
// A type the feed does not list gets the middle band ("10-15%").
constexpr int kUnknownBand = 2;

Interruption At(Sec at, Rng& rng, const InterruptionOptions& o) {
  return Interruption{at - rng.Between(o.rebalance_lead_min, o.rebalance_lead_max), at - 120, at};
}

void DrawHazard(const Market& market, const Dataset& data, const InterruptionOptions& o,
                Interruptions& out) {
  for (SeriesId id = 0; id < static_cast<SeriesId>(market.size()); ++id) {
    const Series& s = market.series(id);
    if (s.on_demand()) continue;
    Rng rng(Draw(o.seed, HashKey(s.name()), HashKey("hazard")));
    const std::optional<AdvisorEntry> entry =
        data.advisor.Find(market.region(), "Linux", s.instance_type);
    const double share = BandMonthlyShare(entry ? entry->band.index : kUnknownBand);
    // A share of instances interrupted per month is a per-instance hazard of
    // -ln(1 - share) per month; the pool factor stands for its AZ's spare capacity.
    const double per_month = -std::log1p(-share) * (0.5 + rng.Uniform());
    const Sec from = s.steps.front().at;
    out.SetRate(id, from, market.end(), per_month);
    for (double t = static_cast<double>(from);;) {
      t += rng.Exponential(kMonth / per_month);
      const auto at = static_cast<Sec>(std::ceil(t));
      if (at >= market.end()) break;
      out.Add(id, At(at, rng, o));
    }
  }
}

void DrawReplay(const Market& market, const Dataset& data, const InterruptionOptions& o,
                Interruptions& out) {
  for (SeriesId id = 0; id < static_cast<SeriesId>(market.size()); ++id) {
    const Series& s = market.series(id);
    if (s.on_demand()) continue;
    Rng rng(Draw(o.seed, HashKey(s.name()), HashKey("replay")));
    const PreemptionTrace& trace = data.traces[rng.Next() % data.traces.size()];
    const Sec length = trace.gap_seconds * static_cast<Sec>(trace.available.size());
    const Sec from = s.steps.front().at;
    const Sec room = std::max<Sec>(0, market.end() - from - length);
    const Sec offset = from + rng.Between(0, room);
    int interrupted = 0;
    for (size_t k = 1; k < trace.available.size(); ++k) {
      const int before = trace.available[k - 1], after = trace.available[k];
      if (after >= before || before <= 0) continue;
      // Of `before` instances, `before - after` were lost; ours is one of them with
      // that probability.
      if (rng.Uniform() * before >= before - after) continue;
      const Sec at = offset + static_cast<Sec>(k) * trace.gap_seconds;
      if (at >= market.end()) break;
      out.Add(id, At(at, rng, o));
      ++interrupted;
    }
    const Sec to = std::min(market.end(), offset + length);
    if (to > offset) {
      out.SetRate(id, offset, to, interrupted * kMonth / static_cast<double>(to - offset));
    }
  }
}

}  // namespace

double BandMonthlyShare(int band) {
  static constexpr double kShare[] = {0.025, 0.075, 0.125, 0.175, 0.25};
  return kShare[std::clamp(band, 0, 4)];
}

double Interruptions::Rate(SeriesId pool, Sec t) const {
  for (const Window& w : windows_[pool]) {
    if (t >= w.from && t < w.to) return w.per_month;
  }
  return 0;
}

absl::StatusOr<Interruptions> DrawInterruptions(const Market& market, const Dataset* data,
                                                const InterruptionOptions& o) {
  if (o.rebalance_lead_min <= 120 || o.rebalance_lead_max < o.rebalance_lead_min) {
    return absl::InvalidArgumentError(
        "rebalance lead: want 120 s < min <= max (it comes before the 2-minute notice)");
  }
  Interruptions out(market.size());
  if (o.mode == InterruptionMode::kNone) return out;
  if (data == nullptr) return absl::InvalidArgumentError("interruptions: no data to draw from");
  if (o.mode == InterruptionMode::kHazard) {
    DrawHazard(market, *data, o, out);
  } else {
    if (data->traces.empty()) {
      return absl::InvalidArgumentError("interruptions: replay needs preemption traces");
    }
    DrawReplay(market, *data, o, out);
  }
  return out;
}

}  // namespace spotopt::backtest
