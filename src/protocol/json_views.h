// The operator's JSON view of each record, shared by every host-facing interface
// (spotopt-server's management API, the C ABI, through it the Python binding), so a
// record looks the same wherever it is read. The agent's own shapes are in wire.h;
// the *RecordJson views extend those with what only operators see.
//
// Internal (not installed): it speaks Boost.JSON, which the installed C++ headers do
// not expose. C and Python hosts get these shapes as JSON text from the C ABI.
#ifndef SPOTOPT_PROTOCOL_JSON_VIEWS_H_
#define SPOTOPT_PROTOCOL_JSON_VIEWS_H_

#include <boost/json.hpp>

#include <vector>

#include "spotopt/service/controller.h"

namespace spotopt::protocol {

boost::json::object TenantJson(const Tenant& t);
// The logical agent with its placement, config and registrations.
boost::json::object AgentJson(const AgentView& v);
// The config record (without the agent's live replica count).
boost::json::object ConfigRecordJson(const AgentConfig& c);
// The agent's command shape plus state, lease and outcome. `agent_id` is the logical
// agent here; the registration holding the lease is `lease_holder`.
boost::json::object CommandRecordJson(const Command& c);
// The agent's replica shape plus state, launch path and links.
boost::json::object ReplicaRecordJson(const Replica& r);
boost::json::object IncidentJson(const Incident& i);
boost::json::object EventJson(const AgentEvent& e);
// A switch ledger record in the switch report's shape (old_instance, new_instance,
// prices, timing with the agent's key spellings).
boost::json::object SwitchJson(const SwitchRecord& s);

// Prices and savings. Money is a JSON number of USD (per hour for prices) plus the
// exact integer micro-dollars beside it (`*_micros`); unknown is null. Times are
// RFC 3339 UTC.
boost::json::object PriceObservationJson(const PriceObservation& o);
boost::json::object CleanPointJson(const sef::CleanPoint& p);
boost::json::object GapJson(const sef::Gap& g);
boost::json::object LatestPriceJson(const LatestPrice& l);
boost::json::object MarketJson(const MarketView& m);
boost::json::object FiguresJson(const ledger::Figures& f);
boost::json::object CostIntervalJson(const ledger::CostInterval& i);
// Operator price imports: [{"region", "az" (absent or "" for on-demand),
// "instance_type", "price" (USD/h, number or decimal string), "at" (timestamp)}].
absl::StatusOr<std::vector<CatalogPrice>> CatalogPricesFromJson(std::string_view text);

template <typename T, typename ToJson>
boost::json::array JsonArray(const std::vector<T>& items, ToJson to_json) {
  boost::json::array out;
  out.reserve(items.size());
  for (const T& item : items) out.push_back(to_json(item));
  return out;
}

// Operator inputs. Like config writes they are exact: an unknown key is refused.

// A switch request: target_mode (required), target_pool_id, reason, override_limits,
// ttl_seconds (> 0), priority (a priority class; default 75, manual),
// expected_savings_percent, target_risk, requested_by.
absl::StatusOr<SwitchRequest> SwitchRequestFromJson(const boost::json::object& body);
// A replica request: pool_id, replica_type, requested_by.
absl::StatusOr<ReplicaRequest> ReplicaRequestFromJson(const boost::json::object& body);
// Refuses any key of `body` not in `keys`.
absl::Status CheckKeys(const boost::json::object& body,
                       std::initializer_list<std::string_view> keys);

}  // namespace spotopt::protocol

#endif  // SPOTOPT_PROTOCOL_JSON_VIEWS_H_
