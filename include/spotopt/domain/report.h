// What agents report besides heartbeats: raw price observations (protocol 5.6), the
// switch ledger (5.7) and cleanup logs (5.15). Each is stored under the reporting
// tenant.
#ifndef SPOTOPT_DOMAIN_REPORT_H_
#define SPOTOPT_DOMAIN_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "spotopt/types.h"

namespace spotopt {

// A spot pool price, or the on-demand price of (region, instance type).
enum class PriceKind { kSpot, kOnDemand };
SPOTOPT_EXPORT std::string_view ToString(PriceKind k);  // spot | ondemand

// Who measured a price, in the price pipeline's order of preference: a price list or
// history an operator imported (AWS's own figures), the agent's primary instance, any
// other registration of the agent (a standby or a former primary).
enum class PriceSource { kCatalog, kPrimary, kReplica };
SPOTOPT_EXPORT std::string_view ToString(PriceSource s);  // catalog | primary | replica

// One raw price as an agent reported it or an operator imported it; never changed
// after it is stored. An on-demand price is kind kOnDemand with an empty AZ; one an
// agent reported (source primary or replica) never outranks a catalog one.
struct PriceObservation {
  int64_t seq = 0;  // per-store sequence, assigned on insert
  std::string tenant_id;
  std::string agent_id;         // the logical agent; empty for catalog prices
  std::string registration_id;  // empty for catalog prices
  std::string region;
  std::string az;  // empty for on-demand
  std::string instance_type;
  PriceKind kind = PriceKind::kSpot;
  Money price;
  Time observed_at;  // the agent's collected_at, or received_at (server_received)
  Time received_at;
  // collected_at was missing or too far in the future: observed_at is the receive time.
  bool server_received = false;
  PriceSource source = PriceSource::kPrimary;
};

// The moments of a switch as the agent reported them; absent = not reported.
struct SwitchTimings {
  std::optional<Time> initiated_at;
  std::optional<Time> launched_at;
  std::optional<Time> ready_at;
  std::optional<Time> traffic_switched_at;
  std::optional<Time> old_terminated_at;
  std::optional<Time> ami_created_at;
  friend bool operator==(const SwitchTimings&, const SwitchTimings&) = default;
};

// The switch ledger: one record per (agent, old instance, new instance), created by
// whichever comes first of the agent's switch report and the successor's
// registration, and completed by the other.
struct SwitchRecord {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  Placement from;
  Placement to;
  std::string command_id;  // empty when no command matched
  std::string reason;      // from the command
  std::string requested_by;
  std::string trigger;  // the agent's label ("manual" | "model"), not the truth
  SwitchTimings timings;
  // Prices at the time of the switch; absent = unknown.
  std::optional<Money> on_demand_price;
  std::optional<Money> old_spot_price;
  std::optional<Money> new_spot_price;
  bool unsolicited = false;  // no command asked for it
  bool reported = false;     // the agent's switch report arrived
  Time created_at;
  Time updated_at;
};

struct CleanupFailure {
  std::string id;
  std::string error;
  friend bool operator==(const CleanupFailure&, const CleanupFailure&) = default;
};

// One section of a cleanup report (snapshots or images). An `error` variant has no
// cut-off and usually deleted nothing.
struct CleanupSection {
  std::vector<std::string> deleted_snapshots;
  std::vector<std::string> deleted_amis;
  std::vector<CleanupFailure> failed;
  std::optional<Time> cutoff;
  std::string error;
  friend bool operator==(const CleanupSection&, const CleanupSection&) = default;
};

struct CleanupLog {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  std::string registration_id;
  std::optional<CleanupSection> snapshots;
  std::optional<CleanupSection> amis;
  Time reported_at;  // the report's timestamp, or received_at
  Time received_at;

  int64_t deleted_snapshots() const { return Count(&CleanupSection::deleted_snapshots); }
  int64_t deleted_amis() const { return Count(&CleanupSection::deleted_amis); }
  int64_t failed() const {
    return static_cast<int64_t>((snapshots ? snapshots->failed.size() : 0) +
                                (amis ? amis->failed.size() : 0));
  }

 private:
  int64_t Count(std::vector<std::string> CleanupSection::*list) const {
    return static_cast<int64_t>((snapshots ? ((*snapshots).*list).size() : 0) +
                                (amis ? ((*amis).*list).size() : 0));
  }
};

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_REPORT_H_
