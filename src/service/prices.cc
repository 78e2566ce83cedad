// Prices: agents' pricing reports (protocol section 5.6), operator imports, and the
// clean series the SEF pipeline (spotopt/pricing/sef.h) makes of them.
#include <algorithm>
#include <cstddef>
#include <vector>

#include <fmt/format.h>

#include "service/markets.h"
#include "service/use_case.h"
#include "spotopt/service/controller.h"

namespace spotopt {
namespace {

struct ValidPool {
  std::string instance_type;
  std::string az;
  std::string field;  // of its price
  std::optional<PriceOrError> price;
};

// Every spot pool entry's identity, checked before anything is stored (a bad pool id
// refuses the report); prices are judged one by one later. Pool ids name AZs of the
// agent's `region`.
absl::StatusOr<std::vector<ValidPool>> ValidatePools(const std::vector<SpotPoolPrice>& pools,
                                                     std::string_view region) {
  std::vector<ValidPool> out;
  for (size_t k = 0; k < pools.size(); ++k) {
    const SpotPoolPrice& p = pools[k];
    const std::string field = fmt::format("pricing.spot_pools[{}]", k);
    SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(p.pool_id, field + ".pool_id"));
    SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(p.instance_type, field + ".instance_type"));
    SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(p.az, field + ".az"));
    ValidPool v{p.instance_type, p.az, field + ".price", ReadReportedPrice(p.price)};
    if (!p.pool_id.empty()) {
      absl::StatusOr<Pool> pool = ParsePoolId(p.pool_id, region);
      if (!pool.ok()) return Invalid(field + ".pool_id", std::string(pool.status().message()));
      if ((!p.instance_type.empty() && p.instance_type != pool->instance_type) ||
          (!p.az.empty() && p.az != pool->az)) {
        return Invalid(field + ".pool_id", "does not agree with instance_type and az");
      }
      v.instance_type = pool->instance_type;
      v.az = pool->az;
    } else if (p.instance_type.empty() || p.az.empty()) {
      return Invalid(field + ".pool_id", "required without instance_type and az");
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

std::vector<sef::MeasuredBucket> Measure(const std::vector<PriceObservation>& observations,
                                         const sef::Options& options) {
  std::vector<sef::Sample> samples;
  samples.reserve(observations.size());
  for (const PriceObservation& o : observations) {
    samples.push_back(sef::Sample{0, ToMicros(o.observed_at), o.price.micros(), o.seq, o.source});
  }
  return sef::Bucketize(samples, options);
}

namespace {

// The measured buckets of a series that start in [from, to), plus those just outside
// that interpolation inside the range can reach. Bucket-aligned, so no bucket is cut.
absl::StatusOr<std::vector<sef::MeasuredBucket>> LoadMeasured(Transaction& tx,
                                                              std::string_view tenant_id,
                                                              const Pool& pool, Time from, Time to,
                                                              const sef::Options& o) {
  const Duration reach = o.bucket * (o.max_fill_buckets + 1);
  const Time first =
      from == absl::InfinitePast() ? from : FromMicros(sef::BucketStart(ToMicros(from), o)) - reach;
  const Time last = to == absl::InfiniteFuture()
                        ? to
                        : FromMicros(sef::BucketStart(ToMicros(to), o)) + o.bucket + reach;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<PriceObservation> raw,
                           tx.ListPriceObservations(tenant_id, pool, first, last));
  return Measure(raw, o);
}

// An infinite bound is an open end.
absl::Status ValidateRange(Time from, Time to) {
  if (from != absl::InfinitePast()) SPOTOPT_RETURN_IF_ERROR(ValidateTime(from, "from"));
  if (to != absl::InfiniteFuture()) SPOTOPT_RETURN_IF_ERROR(ValidateTime(to, "to"));
  if (to < from) return Invalid("to", "before from");
  return absl::OkStatus();
}

absl::Status ValidatePool(const Pool& pool) {
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(pool.region, "pool.region"));
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(pool.instance_type, "pool.instance_type"));
  return CheckOptionalShort(pool.az, "pool.az");
}

absl::Status CheckTenant(Transaction& tx, std::string_view tenant_id) {
  absl::StatusOr<Tenant> t = tx.GetTenant(tenant_id);
  if (absl::IsNotFound(t.status())) return NotFound("tenant");
  if (!t.ok()) return t.status();
  if (t->state == TenantState::kDeleted) return NotFound("tenant");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ledger::PriceStep>> OnDemandSteps(Transaction& tx,
                                                             std::string_view tenant_id,
                                                             std::string_view region,
                                                             std::string_view instance_type,
                                                             const sef::Options& o) {
  SPOTOPT_ASSIGN_OR_RETURN(
      std::vector<PriceObservation> raw,
      tx.ListPriceObservations(tenant_id, Pool{std::string(region), "", std::string(instance_type)},
                               absl::InfinitePast(), absl::InfiniteFuture()));
  const bool catalog = std::any_of(raw.begin(), raw.end(), [](const PriceObservation& p) {
    return p.source == PriceSource::kCatalog;
  });
  return ledger::StepsFrom(Measure(raw, o), catalog);
}

absl::StatusOr<PriceIngest> Controller::ReportPrices(std::string_view tenant_id,
                                                     std::string_view registration_id,
                                                     const PricingReport& report) {
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(report.instance_type, "instance.instance_type"));
  if (report.spot_pools.size() > kMaxSpotPools) {
    return Invalid("pricing.spot_pools", fmt::format("at most {} entries", kMaxSpotPools));
  }
  const Time now = clock_->Now();
  // A clock far ahead of ours is not believed: the receive time stands in.
  const bool server_received =
      !report.collected_at || *report.collected_at > now + options_.max_clock_skew;
  if (!server_received) SPOTOPT_RETURN_IF_ERROR(ValidateTime(*report.collected_at, "collected_at"));
  const Time observed_at = server_received ? now : *report.collected_at;

  PriceIngest result;
  const auto judge = [&](const std::optional<PriceOrError>& price,
                         std::string_view field) -> std::optional<Money> {
    if (!price) return std::nullopt;  // unknown, not refused
    if (const PriceError* e = std::get_if<PriceError>(&*price)) {
      result.refused.push_back(RefusedPrice{std::string(field), *e});
      return std::nullopt;
    }
    return std::get<Money>(*price);
  };
  const std::optional<Money> on_demand =
      judge(ReadReportedPrice(report.on_demand_price), "pricing.on_demand_price");
  // Only judged: the current pool's price is also in spot_pools.
  judge(ReadReportedPrice(report.current_spot_price), "pricing.current_spot_price");

  // The report is checked against the caller in a read transaction; its
  // observations are then added on their own, so a store may hold them and write
  // many reports in one transaction (Store::AddPriceObservations).
  std::vector<PriceObservation> observations;
  const auto judged = static_cast<std::ptrdiff_t>(result.refused.size());
  SPOTOPT_RETURN_IF_ERROR(InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) {
    result.refused.erase(result.refused.begin() + judged, result.refused.end());
    observations.clear();
    SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
    // Checked before anything is added, so a refused report stores nothing.
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<ValidPool> pools,
                             ValidatePools(report.spot_pools, c.agent.placement.region));
    SPOTOPT_ASSIGN_OR_RETURN(Role role, RoleOf(tx, c.agent, c.registration));
    PriceObservation o;
    o.tenant_id = c.agent.tenant_id;
    o.agent_id = c.agent.id;
    o.registration_id = c.registration.id;
    o.region = c.agent.placement.region;
    o.observed_at = observed_at;
    o.received_at = now;
    o.server_received = server_received;
    o.source = role == Role::kPrimary ? PriceSource::kPrimary : PriceSource::kReplica;
    for (const ValidPool& p : pools) {
      const std::optional<Money> price = judge(p.price, p.field);
      if (!price) continue;
      o.kind = PriceKind::kSpot;
      o.az = p.az;
      o.instance_type = p.instance_type;
      o.price = *price;
      observations.push_back(o);
    }
    std::string type = report.instance_type;
    if (type.empty()) type = c.registration.facts.instance_type;
    if (on_demand && !type.empty()) {
      o.kind = PriceKind::kOnDemand;
      o.az.clear();
      o.instance_type = type;
      o.price = *on_demand;
      observations.push_back(o);
    }
    return absl::OkStatus();
  }));
  // A store that writes them at once may meet a conflict, as InTransaction would.
  absl::Status added;
  for (int attempt = 1;; ++attempt) {
    added = store_->AddPriceObservations(observations);
    if (added.ok() || !RunAgain(added, attempt)) break;
  }
  SPOTOPT_RETURN_IF_ERROR(added);
  result.accepted = static_cast<int>(observations.size());
  return result;
}

absl::StatusOr<std::vector<PriceObservation>> Controller::ListLatestPrices(
    std::string_view tenant_id, std::string_view region, std::string_view instance_type) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) {
    return tx.ListLatestPrices(tenant_id, region, instance_type);
  });
}

absl::StatusOr<int64_t> Controller::ImportPrices(std::string_view tenant_id,
                                                 const std::vector<CatalogPrice>& prices) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  // Field names are formatted only for a refusal: imports run to millions of rows.
  const auto field = [](size_t k, std::string_view suffix) {
    return fmt::format("prices[{}]{}", k, suffix);
  };
  for (size_t k = 0; k < prices.size(); ++k) {
    const CatalogPrice& p = prices[k];
    if (absl::Status s = ValidatePool(p.pool); !s.ok()) {
      return Invalid(field(k, ""), std::string(s.message()));
    }
    if (p.price <= Money() || p.price.micros() > Money::kPriceCeilingMicros) {
      return Invalid(field(k, ".price"), "price must be > 0 and at most USD 1000/h");
    }
    if (!ValidateTime(p.at, "at").ok()) return ValidateTime(p.at, field(k, ".at"));
  }
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<int64_t> {
    SPOTOPT_RETURN_IF_ERROR(CheckTenant(tx, tenant_id));
    PriceObservation o;
    o.tenant_id = std::string(tenant_id);
    o.received_at = now;
    o.source = PriceSource::kCatalog;
    for (const CatalogPrice& p : prices) {
      o.region = p.pool.region;
      o.az = p.pool.az;
      o.instance_type = p.pool.instance_type;
      o.kind = p.pool.az.empty() ? PriceKind::kOnDemand : PriceKind::kSpot;
      o.price = p.price;
      o.observed_at = p.at;
      SPOTOPT_RETURN_IF_ERROR(tx.InsertPriceObservation(o).status());
    }
    return static_cast<int64_t>(prices.size());
  });
}

absl::StatusOr<std::vector<PriceObservation>> Controller::ListPriceObservations(
    std::string_view tenant_id, const Pool& pool, Time from, Time to) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  SPOTOPT_RETURN_IF_ERROR(ValidatePool(pool));
  SPOTOPT_RETURN_IF_ERROR(ValidateRange(from, to));
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) {
    return tx.ListPriceObservations(tenant_id, pool, from, to);
  });
}

absl::StatusOr<std::vector<sef::CleanPoint>> Controller::PriceSeries(std::string_view tenant_id,
                                                                     const Pool& pool, Time from,
                                                                     Time to, SeriesView view) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  SPOTOPT_RETURN_IF_ERROR(ValidatePool(pool));
  SPOTOPT_RETURN_IF_ERROR(ValidateRange(from, to));
  const Time now = clock_->Now();
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<sef::MeasuredBucket> measured,
                           InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) {
                             return LoadMeasured(tx, tenant_id, pool, from, to, options_.sef);
                           }));
  std::vector<sef::CleanPoint> points =
      sef::Clean(measured, ToMicros(from), ToMicros(to), ToMicros(now), options_.sef);
  if (view == SeriesView::kClean) {
    std::erase_if(points, [](const sef::CleanPoint& p) {
      return p.source == sef::PointSource::kInterpolated;
    });
  }
  return points;
}

absl::StatusOr<std::vector<sef::Gap>> Controller::PriceGaps(std::string_view tenant_id,
                                                            const Pool& pool, Time from, Time to) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  SPOTOPT_RETURN_IF_ERROR(ValidatePool(pool));
  SPOTOPT_RETURN_IF_ERROR(ValidateRange(from, to));
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<PriceObservation> raw,
                           InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) {
                             return tx.ListPriceObservations(tenant_id, pool, from, to);
                           }));
  return sef::DetectGaps(Measure(raw, options_.sef), options_.sef);
}

absl::StatusOr<std::vector<LatestPrice>> Controller::LatestCleanPrices(std::string_view tenant_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<LatestPrice>> {
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<Pool> series, tx.ListPriceSeries(tenant_id));
        std::vector<LatestPrice> out;
        // Series come ordered by region, type, AZ: one newest-price read per type.
        for (size_t i = 0; i < series.size();) {
          const Pool& first = series[i];
          SPOTOPT_ASSIGN_OR_RETURN(
              std::vector<PriceObservation> newest,
              tx.ListLatestPrices(tenant_id, first.region, first.instance_type));
          // One per AZ: the on-demand series (AZ "") is kind ondemand, the rest spot.
          for (const PriceObservation& n : newest) {
            SPOTOPT_ASSIGN_OR_RETURN(LatestPrice latest, LatestOf(tx, n, now, options_.sef));
            out.push_back(std::move(latest));
          }
          while (i < series.size() && series[i].region == first.region &&
                 series[i].instance_type == first.instance_type) {
            ++i;
          }
        }
        return out;
      });
}

absl::StatusOr<MarketView> Controller::Market(std::string_view tenant_id, std::string_view region,
                                              std::string_view instance_type) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(region, "region"));
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(instance_type, "instance_type"));
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<MarketView> {
    MarketReader reader(tx, options_, advisor_feed(), now, false);
    SPOTOPT_ASSIGN_OR_RETURN(const TypeMarket* market,
                             reader.Get(tenant_id, region, instance_type));
    return market->view;
  });
}

absl::StatusOr<size_t> Controller::LoadAdvisorFeed(std::string_view json_text) {
  SPOTOPT_ASSIGN_OR_RETURN(AdvisorFeed feed, AdvisorFeed::Parse(json_text));
  auto next = std::make_shared<const AdvisorFeed>(std::move(feed));
  const size_t size = next->size();
  std::lock_guard<std::mutex> lock(advisor_mu_);
  advisor_ = std::move(next);
  return size;
}

std::shared_ptr<const AdvisorFeed> Controller::advisor_feed() const {
  std::lock_guard<std::mutex> lock(advisor_mu_);
  return advisor_;
}

}  // namespace spotopt
