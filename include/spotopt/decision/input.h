// What a decision engine is given: one versioned value, assembled by the service
// layer from the store (or by a host, a test or a backtest), so that every engine is
// a pure function of it. No engine reads a clock, a store or a file.
#ifndef SPOTOPT_DECISION_INPUT_H_
#define SPOTOPT_DECISION_INPUT_H_

#include <optional>
#include <string>
#include <vector>

#include "spotopt/domain/agent.h"
#include "spotopt/domain/incident.h"
#include "spotopt/domain/replica.h"
#include "spotopt/pricing/advisor.h"
#include "spotopt/pricing/sef.h"
#include "spotopt/types.h"

namespace spotopt::decision {

// The input's shape; a host engine sees it as "version" in the JSON (decision/json.h).
// A change that a host engine could misread bumps it.
inline constexpr int kInputVersion = 1;

// Why the decision is asked for.
enum class Trigger {
  kSchedule,     // the fleet run, or a preview
  kRebalance,    // a rebalance recommendation for the agent's primary
  kTermination,  // a termination notice for the agent's primary (2-minute deadline)
};
SPOTOPT_EXPORT std::string_view ToString(Trigger t);  // schedule | rebalance | termination

// A price as a decision sees it: the newest clean point of a series.
struct PriceQuote {
  Money price;
  Time observed_at;
  // Measured (catalog, primary, replica) or interpolated by SEF. A decision never
  // rests on an interpolated price alone.
  sef::PointSource source = sef::PointSource::kPrimary;
  double confidence = 1;
  friend bool operator==(const PriceQuote&, const PriceQuote&) = default;
};

// A week of a pool's prices as a step function (each measured price holds until the
// next), for engines that forecast. Time-weighted, so it does not depend on how often
// the price was reported. Computed by decision::Summarize (features.h).
struct PriceHistory {
  Money mean;  // time-weighted over the steps observed in the last 7 days
  Money min;
  Money max;
  double deviation_day = 0;  // time-weighted standard deviation / mean, last 24 h
  int changes = 0;           // price changes in the last 7 days
  Duration since_change;     // since the current price took effect
  friend bool operator==(const PriceHistory&, const PriceHistory&) = default;
};

// One candidate spot pool.
struct PoolMarket {
  Pool pool;
  std::optional<PriceQuote> spot;  // absent: never observed
  std::optional<Money> on_demand;  // of the pool's instance type in its region
  double volatility_hour = 0;      // std deviation / mean of measured buckets
  double volatility_day = 0;
  std::optional<AdvisorEntry> advisor;  // the Spot Advisor band of the pool's type
  // Interruption signals the tenant's agents reported from this pool within the
  // signal window (DecisionInput::signal_window).
  int terminations = 0;
  int rebalances = 0;
  std::optional<PriceHistory> history;  // loaded only for engines that need it
  friend bool operator==(const PoolMarket&, const PoolMarket&) = default;
};

// The agent's live replica, if it has one.
struct ReplicaView {
  std::string id;
  ReplicaState state = ReplicaState::kRequested;
  Pool pool;
  bool has_instance = false;  // a real instance id is known (promotable once READY)
  friend bool operator==(const ReplicaView&, const ReplicaView&) = default;
};

// An open interruption incident of the agent.
struct IncidentView {
  Signal signal = Signal::kRebalanceRecommendation;
  std::string instance_id;
  Time notice_time;
  std::optional<Time> deadline;  // termination notices
  friend bool operator==(const IncidentView&, const IncidentView&) = default;
};

struct DecisionInput {
  int version = kInputVersion;
  Trigger trigger = Trigger::kSchedule;
  Time now;

  // The agent.
  std::string agent_id;
  Placement placement;
  Time placement_since;
  AgentConfig config;
  std::optional<ReplicaView> replica;
  bool switch_pending = false;    // a switch command is PENDING or LEASED
  bool switch_in_flight = false;  // ... and it is LEASED: the agent is executing it

  // History: when the agent's successful switches closed (last 7 days, oldest first;
  // the same switches the command queue's caps count), and its open incidents.
  std::vector<Time> switches;
  std::vector<IncidentView> incidents;

  // The market: every pool of the agent's instance type in its region, then those of
  // config.compatible_instance_types, ordered by type then AZ. The current pool is
  // always present (a spot agent's), priced or not.
  std::vector<PoolMarket> pools;
  std::optional<Money> on_demand;  // of the agent's own instance type

  // Market rules. A spot price older than max_price_age is stale; one older than
  // `gap` sits in a gap of its series (spotopt/pricing/sef.h). Signals count within
  // signal_window.
  Duration max_price_age = absl::Minutes(15);
  Duration gap = absl::Seconds(600);
  Duration signal_window = absl::Hours(24);

  friend bool operator==(const DecisionInput&, const DecisionInput&) = default;
};

// The pool the agent runs in now: nullptr when it is on demand or its pool is not
// among the candidates.
SPOTOPT_EXPORT const PoolMarket* CurrentPool(const DecisionInput& in);
// The candidate with this pool, or nullptr.
SPOTOPT_EXPORT const PoolMarket* FindPool(const DecisionInput& in, const Pool& pool);

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_INPUT_H_
