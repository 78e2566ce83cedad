// The C ABI: price ingest and queries, the Spot Advisor feed, savings.
#include "common.h"

#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "spotopt/ledger/ledger.h"

namespace {

using spotopt::capi::ArrayOf;
using spotopt::capi::BoundArg;
using spotopt::capi::Fail;
using spotopt::capi::Guard;
using spotopt::capi::JsonOut;
using spotopt::capi::Require;

}  // namespace

extern "C" {

// ---- Prices and savings ------------------------------------------------------------

spotopt_status spotopt_prices_import(spotopt_controller* controller, const char* tenant_id,
                                     const char* prices_json, int64_t* count_out) {
  constexpr const char* kFn = "spotopt_prices_import";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {prices_json, "prices_json"},
                                         {count_out, "count_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto prices = spotopt::protocol::CatalogPricesFromJson(prices_json);
    if (!prices.ok()) return Fail(prices.status());
    auto count = controller->controller.ImportPrices(tenant_id, *prices);
    if (!count.ok()) return Fail(count.status());
    *count_out = *count;
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_price_series(spotopt_controller* controller, const char* tenant_id,
                                    const char* region, const char* az, const char* instance_type,
                                    int64_t from_unix_micros, int64_t to_unix_micros,
                                    const char* view, char** json_out) {
  constexpr const char* kFn = "spotopt_price_series";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {region, "region"},
                                         {instance_type, "instance_type"},
                                         {view, "view"},
                                         {json_out, "json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    const spotopt::Pool pool{region, az == nullptr ? "" : az, instance_type};
    const spotopt::Time from = BoundArg(from_unix_micros);
    const spotopt::Time to = BoundArg(to_unix_micros);
    spotopt::Controller& c = controller->controller;
    const std::string_view v = view;
    if (v == "raw") {
      return JsonOut(c.ListPriceObservations(tenant_id, pool, from, to),
                     ArrayOf(spotopt::protocol::PriceObservationJson), json_out);
    }
    if (v != "clean" && v != "interpolated") {
      return Fail(SPOTOPT_INVALID_ARGUMENT,
                  fmt::format("{}: view: one of raw, clean, interpolated", kFn));
    }
    return JsonOut(c.PriceSeries(tenant_id, pool, from, to,
                                 v == "clean" ? spotopt::SeriesView::kClean
                                              : spotopt::SeriesView::kInterpolated),
                   ArrayOf(spotopt::protocol::CleanPointJson), json_out);
  });
}

spotopt_status spotopt_prices_latest(spotopt_controller* controller, const char* tenant_id,
                                     char** json_out) {
  constexpr const char* kFn = "spotopt_prices_latest";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(
            kFn, {{controller, "controller"}, {tenant_id, "tenant_id"}, {json_out, "json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.LatestCleanPrices(tenant_id),
                   ArrayOf(spotopt::protocol::LatestPriceJson), json_out);
  });
}

spotopt_status spotopt_market(spotopt_controller* controller, const char* tenant_id,
                              const char* region, const char* instance_type,
                              char** market_json_out) {
  constexpr const char* kFn = "spotopt_market";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {region, "region"},
                                         {instance_type, "instance_type"},
                                         {market_json_out, "market_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    return JsonOut(controller->controller.Market(tenant_id, region, instance_type),
                   spotopt::protocol::MarketJson, market_json_out);
  });
}

spotopt_status spotopt_advisor_load(spotopt_controller* controller, const char* feed_json,
                                    size_t feed_len, int64_t* entries_out) {
  constexpr const char* kFn = "spotopt_advisor_load";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"}, {feed_json, "feed_json"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto entries = controller->controller.LoadAdvisorFeed(std::string_view(feed_json, feed_len));
    if (!entries.ok()) return Fail(entries.status());
    if (entries_out != nullptr) *entries_out = static_cast<int64_t>(*entries);
    return SPOTOPT_OK;
  });
}

spotopt_status spotopt_savings(spotopt_controller* controller, const char* tenant_id,
                               const char* agent_id, const char* period, char** figures_json_out) {
  constexpr const char* kFn = "spotopt_savings";
  return Guard(kFn, [&] {
    if (spotopt_status s = Require(kFn, {{controller, "controller"},
                                         {tenant_id, "tenant_id"},
                                         {period, "period"},
                                         {figures_json_out, "figures_json_out"}});
        s != SPOTOPT_OK) {
      return s;
    }
    auto p = spotopt::ledger::ParsePeriod(period);
    if (!p.ok()) return Fail(p.status());
    return JsonOut(
        controller->controller.Savings(tenant_id, agent_id == nullptr ? "" : agent_id, *p),
        ArrayOf(spotopt::protocol::FiguresJson), figures_json_out);
  });
}

}  // extern "C"
