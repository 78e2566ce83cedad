// The default engine: the config's thresholds as rules, money compared exactly.
//
// On spot, with the agent's own price usable (known, measured, fresh):
//   1. spot >= ondemand_fallback_ratio x on-demand  -> on-demand (urgent when
//      spot >= on-demand); a pool cheaper than the line by min_savings_percent and
//      within the risk ceiling is preferred to on-demand;
//   2. the cheapest eligible pool saves >= min_savings_percent -> that pool;
//   3. the agent's own pool is riskier than risk_threshold -> the safest eligible pool;
//   4. else stay.
// On demand: the cheapest eligible pool below ondemand_return_ratio x on-demand that
// saves min_savings_percent -> that pool (hysteresis: the return line sits below the
// fallback line, so a price near either cannot make the agent flap); else stay.
// Eligible: a usable price and risk <= risk_threshold. Ties break by risk, then pool id.
//
// On an interruption signal: promote a promotable replica on a termination notice;
// rely on a live one; else a standby replica in the safest pool of another AZ when
// replica_mode allows (it survives the primary); else a move to the safest pool, and
// on a termination notice to on-demand when no pool is usable.
#ifndef SPOTOPT_DECISION_RULES_H_
#define SPOTOPT_DECISION_RULES_H_

#include "spotopt/decision/decision.h"
#include "spotopt/decision/risk.h"

namespace spotopt::decision {

class SPOTOPT_EXPORT RulesEngine final : public Engine {
 public:
  static constexpr std::string_view kName = "rules";
  static constexpr std::string_view kVersion = "1.0.0";

  explicit RulesEngine(RiskModel risk = {}) : risk_(risk) {}
  std::string_view name() const override { return kName; }
  std::string_view version() const override { return kVersion; }
  absl::StatusOr<Decision> Decide(const DecisionInput& in) const override;

 private:
  RiskModel risk_;
};

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_RULES_H_
