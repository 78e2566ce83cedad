// The market of one (tenant, region, instance type): every pool's newest clean price,
// volatility, Spot Advisor band and recent interruption signals, and the on-demand
// price (catalog first). Read once per (tenant, region, type) and shared by
// Controller::Market and every decision that needs it. Internal to the service layer.
#ifndef SPOTOPT_SERVICE_MARKETS_H_
#define SPOTOPT_SERVICE_MARKETS_H_

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "spotopt/decision/input.h"
#include "spotopt/service/controller.h"

namespace spotopt {

struct TypeMarket {
  MarketView view;
  // One per view.pools entry, in the same order: what a decision reads.
  std::vector<decision::PoolMarket> pools;
};

// Reads markets within one transaction, each (tenant, region, type) once.
class MarketReader {
 public:
  // with_history: also each pool's week of price steps (decision::PriceHistory), for
  // engines that forecast.
  MarketReader(Transaction& tx, const ControllerOptions& options,
               std::shared_ptr<const AdvisorFeed> feed, Time now, bool with_history);

  absl::StatusOr<const TypeMarket*> Get(std::string_view tenant_id, std::string_view region,
                                        std::string_view instance_type);

 private:
  // Interruption signals per (region, pool id) of one tenant within the signal window.
  struct Signals {
    int terminations = 0;
    int rebalances = 0;
  };
  absl::StatusOr<const std::map<std::string, Signals>*> TenantSignals(std::string_view tenant_id);
  absl::StatusOr<TypeMarket> Load(std::string_view tenant_id, std::string_view region,
                                  std::string_view instance_type);

  Transaction& tx_;
  const ControllerOptions& options_;
  std::shared_ptr<const AdvisorFeed> feed_;
  Time now_;
  bool with_history_;
  std::map<std::tuple<std::string, std::string, std::string>, TypeMarket, std::less<>> markets_;
  std::map<std::string, std::map<std::string, Signals>, std::less<>> signals_;
};

// The newest measured bucket of a series given its newest observation.
absl::StatusOr<LatestPrice> LatestOf(Transaction& tx, const PriceObservation& newest, Time now,
                                     const sef::Options& o);

}  // namespace spotopt

#endif  // SPOTOPT_SERVICE_MARKETS_H_
