// A small market to decide in: an agent on spot in us-east-1a with three other pools,
// fresh measured prices and an on-demand price, built field by field per test.
#ifndef SPOTOPT_TESTS_DECISION_MARKET_H_
#define SPOTOPT_TESTS_DECISION_MARKET_H_

#include <string>

#include "spotopt/decision/input.h"

namespace spotopt::decision::testing {

inline const Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 11, 23, 12, 0, 0), absl::UTCTimeZone());

inline Money Usd(std::string_view text) { return *Money::ParsePrice(text, "test"); }

inline Pool PoolIn(std::string_view az, std::string_view type = "m5.large") {
  return Pool{"us-east-1", std::string(az), std::string(type)};
}

inline PoolMarket Priced(const Pool& pool, std::string_view usd, Duration age = absl::Minutes(2)) {
  PoolMarket p;
  p.pool = pool;
  p.spot = PriceQuote{Usd(usd), kNow - age, sef::PointSource::kPrimary, 1};
  p.on_demand = Usd("0.096");
  p.advisor = AdvisorEntry{AdvisorBand{0, "<5%", 5}, 70};
  return p;
}

// An m5.large agent on spot in us-east-1a at 0.040 for a day, with nothing pending;
// pools b, c and d at 0.041, 0.039 and 0.042; on-demand 0.096.
inline DecisionInput Market() {
  DecisionInput in;
  in.now = kNow;
  in.agent_id = "agent-1";
  in.placement =
      Placement{"i-0123456789abcdef0", "m5.large", "us-east-1", "us-east-1a", Mode::kSpot};
  in.placement_since = kNow - absl::Hours(24);
  in.pools = {Priced(PoolIn("us-east-1a"), "0.040"), Priced(PoolIn("us-east-1b"), "0.041"),
              Priced(PoolIn("us-east-1c"), "0.039"), Priced(PoolIn("us-east-1d"), "0.042")};
  in.on_demand = Usd("0.096");
  return in;
}

inline PoolMarket& PoolOf(DecisionInput& in, std::string_view az) {
  for (PoolMarket& p : in.pools) {
    if (p.pool.az == az && p.pool.instance_type == in.placement.instance_type) return p;
  }
  throw std::logic_error("no such pool");
}

inline void SetPrice(DecisionInput& in, std::string_view az, std::string_view usd) {
  PoolOf(in, az).spot->price = Usd(usd);
}

}  // namespace spotopt::decision::testing

#endif  // SPOTOPT_TESTS_DECISION_MARKET_H_
