#include "spotopt/decision/input.h"

namespace spotopt::decision {

std::string_view ToString(Trigger t) {
  switch (t) {
    case Trigger::kSchedule:
      return "schedule";
    case Trigger::kRebalance:
      return "rebalance";
    case Trigger::kTermination:
      return "termination";
  }
  return "unknown";
}

const PoolMarket* FindPool(const DecisionInput& in, const Pool& pool) {
  for (const PoolMarket& p : in.pools) {
    if (p.pool == pool) return &p;
  }
  return nullptr;
}

const PoolMarket* CurrentPool(const DecisionInput& in) {
  const std::optional<Pool> here = in.placement.pool();
  return here ? FindPool(in, *here) : nullptr;
}

}  // namespace spotopt::decision
