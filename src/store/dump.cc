// DumpStore: the whole store as one canonical JSON document. Records are nested
// under their owners and every list comes in the order store.h documents, so the
// text depends only on the stored state, never on the store implementation.
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include "spotopt/store/store.h"
#include "store/codec.h"

namespace spotopt {
namespace {

namespace json = boost::json;

template <class T>
json::array ToArray(const std::vector<T>& records) {
  json::array out;
  out.reserve(records.size());
  for (const T& r : records) out.emplace_back(codec::ToJson(r));
  return out;
}

// Appends `list` under `key`, or returns the error that listing it gave.
template <class T>
absl::Status Put(json::object& o, std::string_view key, absl::StatusOr<std::vector<T>> list) {
  if (!list.ok()) return list.status();
  o[json::string_view(key.data(), key.size())] = ToArray(*list);
  return absl::OkStatus();
}

absl::StatusOr<json::object> DumpAgent(Transaction& tx, const Agent& agent) {
  json::object o;
  o["agent"] = codec::ToJson(agent);
  absl::Status s = Put(o, "registrations", tx.ListRegistrations(agent.id));
  if (s.ok()) s = Put(o, "commands", tx.ListCommands(agent.id));
  if (s.ok()) s = Put(o, "replicas", tx.ListReplicas(agent.id));
  if (s.ok()) s = Put(o, "incidents", tx.ListIncidents(agent.id));
  if (s.ok()) s = Put(o, "events", tx.ListEvents(agent.id));
  if (s.ok()) s = Put(o, "switches", tx.ListSwitches(agent.id));
  if (s.ok()) s = Put(o, "cleanup_logs", tx.ListCleanupLogs(agent.id));
  if (s.ok()) s = Put(o, "run_segments", tx.ListRunSegments(agent.id));
  if (s.ok()) {
    s = Put(o, "decisions", tx.ListDecisions(agent.id, 0, std::numeric_limits<size_t>::max()));
  }
  if (!s.ok()) return s;
  return o;
}

absl::StatusOr<json::object> DumpTenant(Transaction& tx, const Tenant& tenant) {
  json::object o;
  o["tenant"] = codec::ToJson(tenant);
  absl::Status s = Put(o, "tokens", tx.ListTokens(tenant.id));
  if (s.ok()) s = Put(o, "aliases", tx.ListAliases(tenant.id));
  if (s.ok()) s = Put(o, "price_observations", tx.ListTenantPriceObservations(tenant.id));
  if (!s.ok()) return s;
  absl::StatusOr<std::vector<Agent>> agents = tx.ListAgents(tenant.id);
  if (!agents.ok()) return agents.status();
  json::array dumped;
  for (const Agent& agent : *agents) {
    absl::StatusOr<json::object> a = DumpAgent(tx, agent);
    if (!a.ok()) return a.status();
    dumped.emplace_back(*std::move(a));
  }
  o["agents"] = std::move(dumped);
  return o;
}

absl::StatusOr<std::string> Dump(Store& store) {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(TxMode::kRead);
  if (!tx.ok()) return tx.status();
  absl::StatusOr<std::vector<Tenant>> tenants = (*tx)->ListTenants();
  if (!tenants.ok()) return tenants.status();
  json::array dumped;
  for (const Tenant& tenant : *tenants) {
    absl::StatusOr<json::object> t = DumpTenant(**tx, tenant);
    if (!t.ok()) return t.status();
    dumped.emplace_back(*std::move(t));
  }
  if (absl::Status s = (*tx)->Commit(); !s.ok()) return s;
  json::object doc;
  doc["tenants"] = std::move(dumped);
  return json::serialize(doc);
}

}  // namespace

absl::StatusOr<std::string> DumpStore(Store& store) {
  try {
    return Dump(store);
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("dump store: {}", e.what()));
  }
}

}  // namespace spotopt
