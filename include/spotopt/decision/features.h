// The features a price model reads for one candidate pool, and the week of price
// history they come from. tools/model/train.py computes the same numbers from the
// AWS price history; a model's manifest lists these names in this order, and its
// checks (spotopt/decision/model.h) prove both sides agree.
#ifndef SPOTOPT_DECISION_FEATURES_H_
#define SPOTOPT_DECISION_FEATURES_H_

#include <array>
#include <optional>
#include <span>
#include <string_view>

#include "spotopt/decision/input.h"
#include "spotopt/ledger/ledger.h"

namespace spotopt::decision {

inline constexpr std::array<std::string_view, 9> kFeatureNames = {
    "log_price_over_ondemand",   // log(price / on-demand of the pool's type)
    "log_price_over_mean_7d",    // log(price / time-weighted mean of the week)
    "log_price_over_min_7d",     // log(price / the week's minimum)
    "log_max_7d_over_price",     // log(the week's maximum / price)
    "log1p_hours_since_change",  // log(1 + hours since the price last changed)
    "changes_7d",                // price changes in the week
    "deviation_day",             // time-weighted std deviation / mean, last 24 h
    "advisor_band",              // Spot Advisor band index 0..4
    "advisor_savings",           // Spot Advisor savings over on-demand, as a fraction
};
using FeatureRow = std::array<float, kFeatureNames.size()>;

// How far back PriceHistory looks, and how much earlier a caller should read
// observations so that the price in effect when the window opens is known (AWS
// republishes an unchanged price at least every ~32 hours; agents report every 5 min).
inline constexpr Duration kHistoryWindow = absl::Hours(24 * 7);
inline constexpr Duration kHistoryLookback = absl::Hours(24 * 9);

// The history of a pool's price as of `now`, the step function of its steps
// (ledger::StepsFrom: each measured price from when it was observed, repeats dropped,
// ordered by time) over [now - 7 days, now]: the step in effect when the window opens
// counts from then on. nullopt when no step took effect by `now`. since_change is
// capped at the window.
SPOTOPT_EXPORT std::optional<PriceHistory> Summarize(std::span<const ledger::PriceStep> steps,
                                                     Time now);

// The features of a pool with a spot price; NaN marks a missing one (no on-demand
// price, no history, no Advisor entry), which tree models handle as missing.
SPOTOPT_EXPORT FeatureRow Features(const PoolMarket& p);

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_FEATURES_H_
