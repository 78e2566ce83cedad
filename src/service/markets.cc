// Market views: what Controller::Market shows and what decisions read.
#include "service/markets.h"

#include <algorithm>

#include "service/use_case.h"
#include "spotopt/decision/features.h"
#include "spotopt/decision/risk.h"

namespace spotopt {
namespace {

// Volatility of the measured buckets of observations made within `window` before now
// (`recent` is ordered by observed_at).
double VolatilityWithin(const std::vector<PriceObservation>& recent, Time now, Duration window,
                        const sef::Options& o) {
  const auto first =
      std::lower_bound(recent.begin(), recent.end(), now - window,
                       [](const PriceObservation& p, Time t) { return p.observed_at < t; });
  const std::vector<PriceObservation> inside(first, recent.end());
  std::vector<int64_t> prices;
  for (const sef::MeasuredBucket& b : Measure(inside, o)) prices.push_back(b.chosen().price_micros);
  return sef::Volatility(prices);
}

}  // namespace

absl::StatusOr<LatestPrice> LatestOf(Transaction& tx, const PriceObservation& newest, Time now,
                                     const sef::Options& o) {
  const Pool pool{newest.region, newest.az, newest.instance_type};
  const Time start = FromMicros(sef::BucketStart(ToMicros(newest.observed_at), o));
  SPOTOPT_ASSIGN_OR_RETURN(
      std::vector<PriceObservation> raw,
      tx.ListPriceObservations(newest.tenant_id, pool, start, start + o.bucket));
  const std::vector<sef::MeasuredBucket> measured = Measure(raw, o);
  if (measured.empty()) return absl::InternalError("the newest observation is not in its bucket");
  const sef::MeasuredBucket& b = measured.back();
  LatestPrice out;
  out.pool = pool;
  out.point = sef::Clean(measured, b.start_us, b.start_us + 1, ToMicros(now), o).front();
  out.observed_at = FromMicros(b.chosen().observed_us);
  out.age = now - out.observed_at;
  return out;
}

MarketReader::MarketReader(Transaction& tx, const ControllerOptions& options,
                           std::shared_ptr<const AdvisorFeed> feed, Time now, bool with_history)
    : tx_(tx), options_(options), feed_(std::move(feed)), now_(now), with_history_(with_history) {}

absl::StatusOr<const TypeMarket*> MarketReader::Get(std::string_view tenant_id,
                                                    std::string_view region,
                                                    std::string_view instance_type) {
  const auto key =
      std::make_tuple(std::string(tenant_id), std::string(region), std::string(instance_type));
  if (auto it = markets_.find(key); it != markets_.end()) return &it->second;
  SPOTOPT_ASSIGN_OR_RETURN(TypeMarket m, Load(tenant_id, region, instance_type));
  return &markets_.emplace(key, std::move(m)).first->second;
}

absl::StatusOr<const std::map<std::string, MarketReader::Signals>*> MarketReader::TenantSignals(
    std::string_view tenant_id) {
  if (auto it = signals_.find(tenant_id); it != signals_.end()) return &it->second;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> recent,
                           tx_.ListTenantIncidentsSince(tenant_id, now_ - options_.signal_window));
  std::map<std::string, Signals> counts;
  for (const Incident& i : recent) {
    if (i.pool.az.empty() || i.pool.instance_type.empty() || i.first_seen > now_) continue;
    Signals& s = counts[i.pool.region + "/" + i.pool.id()];
    ++(i.signal == Signal::kTerminationNotice ? s.terminations : s.rebalances);
  }
  return &signals_.emplace(std::string(tenant_id), std::move(counts)).first->second;
}

absl::StatusOr<TypeMarket> MarketReader::Load(std::string_view tenant_id, std::string_view region,
                                              std::string_view instance_type) {
  const sef::Options& o = options_.sef;
  TypeMarket m;
  m.view.region = std::string(region);
  m.view.instance_type = std::string(instance_type);
  if (feed_) m.view.advisor = feed_->Find(region, "Linux", instance_type);
  SPOTOPT_ASSIGN_OR_RETURN(const auto* signals, TenantSignals(tenant_id));
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<PriceObservation> newest,
                           tx_.ListLatestPrices(tenant_id, region, instance_type));
  // The on-demand series first: every pool of the type shares its price.
  for (const PriceObservation& n : newest) {
    if (n.kind != PriceKind::kOnDemand) continue;
    SPOTOPT_ASSIGN_OR_RETURN(LatestPrice latest, LatestOf(tx_, n, now_, o));
    // An agent's estimate never outranks the operator's price list.
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<ledger::PriceStep> steps,
                             OnDemandSteps(tx_, tenant_id, region, instance_type, o));
    // A price list may hold prices that take effect later: the one in effect now.
    const auto effective =
        std::upper_bound(steps.begin(), steps.end(), now_,
                         [](Time t, const ledger::PriceStep& step) { return t < step.from; });
    if (effective != steps.begin()) {
      latest.point.price_micros = std::prev(effective)->price.micros();
      latest.observed_at = std::prev(effective)->from;
      latest.age = now_ - latest.observed_at;
    }
    m.view.on_demand = std::move(latest);
  }
  const std::optional<Money> on_demand =
      m.view.on_demand
          ? std::optional<Money>(Money::FromMicros(m.view.on_demand->point.price_micros))
          : std::nullopt;
  const Duration lookback = with_history_ ? decision::kHistoryLookback : absl::Hours(24);
  for (const PriceObservation& n : newest) {
    if (n.kind != PriceKind::kSpot) continue;
    const Pool pool{std::string(region), n.az, std::string(instance_type)};
    SPOTOPT_ASSIGN_OR_RETURN(
        std::vector<PriceObservation> recent,
        tx_.ListPriceObservations(tenant_id, pool, now_ - lookback, now_ + absl::Microseconds(1)));
    // The window includes now: a price observed at exactly `now` is the newest (the
    // model's training reads steps the same way). An imported price dated after now
    // is not the price now: the newest one before it is, if the window holds one.
    const PriceObservation* newest = &n;
    if (n.observed_at > now_) newest = recent.empty() ? nullptr : &recent.back();
    if (newest == nullptr) continue;
    SPOTOPT_ASSIGN_OR_RETURN(LatestPrice latest, LatestOf(tx_, *newest, now_, o));
    MarketPool view{pool, latest, VolatilityWithin(recent, now_, absl::Hours(1), o),
                    VolatilityWithin(recent, now_, absl::Hours(24), o)};

    decision::PoolMarket p;
    p.pool = pool;
    p.spot = decision::PriceQuote{Money::FromMicros(latest.point.price_micros), latest.observed_at,
                                  latest.point.source, latest.point.confidence};
    p.on_demand = on_demand;
    p.volatility_hour = view.volatility_hour;
    p.volatility_day = view.volatility_day;
    p.advisor = m.view.advisor;
    if (auto it = signals->find(pool.region + "/" + pool.id()); it != signals->end()) {
      p.terminations = it->second.terminations;
      p.rebalances = it->second.rebalances;
    }
    if (with_history_) {
      const std::vector<ledger::PriceStep> steps = ledger::StepsFrom(Measure(recent, o));
      p.history = decision::Summarize(steps, now_);
    }
    view.terminations = p.terminations;
    view.rebalances = p.rebalances;
    view.risk = decision::Risk(p);
    m.view.pools.push_back(std::move(view));
    m.pools.push_back(std::move(p));
  }
  return m;
}

}  // namespace spotopt
